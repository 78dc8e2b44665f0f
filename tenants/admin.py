"""The operators' admin on the public site (tenants, domains, keys, members, users,
lockouts, the operators' audit log), and the tenant admin's own pages for its members
and ingest keys (admins of the tenant only). Operators' changes are audited in the
shared schema's chain and, when they concern a tenant, in that tenant's chain too, so
its auditors see them."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tenants.utils import schema_context

from alerting.audit.admin import AppendOnlyAdminMixin, AuditedAdminMixin, AuditLogAdmin
from alerting.audit.heads.models import OperatorAuditEntry
from alerting.audit.models import AuditSource
from alerting.audit.services import audit_record
from tenants.login_security import client_ip, site_audit_record
from tenants.membership import UNKNOWN_MEMBER, membership_candidate, membership_set
from tenants.models import Domain, IngestKey, Role, Tenant, TenantMembership
from tenants.roles import RolePermissionsMixin
from tenants.services import hashed_key_revoke, ingest_key_create
from tenants.sites import AuditedLoginSite


class PublicAdminSite(AuditedLoginSite):
    site_header = _("Herald operations")
    site_title = _("Herald operations")


public_admin = PublicAdminSite(name="public_admin")


class OperatorAuditedMixin(AuditedAdminMixin):
    """AuditedAdminMixin for the operators' admin: every change goes into the operators'
    chain in the shared schema (and the `herald.audit` log stream); one that concerns a
    tenant also into that tenant's chain, so its auditors see what operators did to it.
    Django's own admin history is kept too: it lives in the shared schema."""

    def audit_tenant(self, obj) -> Tenant | None:
        return getattr(obj, "tenant", None)

    def _audit(self, request, *, action, obj, before=None, after=None) -> None:
        fields = {
            "actor": request.user.get_username(), "source": AuditSource.ADMIN,
            "action": action, "obj_type": obj._meta.label_lower, "obj_id": obj.pk,
            "obj_repr": str(obj), "ip": client_ip(request), "before": before, "after": after,
        }
        site_audit_record(**fields)
        tenant = self.audit_tenant(obj)
        if tenant is not None:
            with schema_context(tenant.schema_name):
                audit_record(**fields)

    # Django's admin history is right here: shared schema, shared content types.
    log_addition = admin.ModelAdmin.log_addition
    log_change = admin.ModelAdmin.log_change
    log_deletions = admin.ModelAdmin.log_deletions
    history_view = admin.ModelAdmin.history_view


@admin.register(User, site=public_admin)
class OperatorUserAdmin(OperatorAuditedMixin, UserAdmin):
    audit_secret_fields = ("password",)

    def user_change_password(self, request, id, form_url=""):
        # Django's password page saves without save_model: audited here, the hash redacted.
        user = self.get_object(request, id)
        before = self._audit_state(user) if user is not None else None
        old_hash = user.password if user is not None else None
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and user is not None:
            saved = User.objects.get(pk=user.pk)
            self._audit(request, action="password_change", obj=saved, before=before,
                        after=self._audit_state(saved, secrets_before={"password": old_hash}))
        return response


@admin.register(Group, site=public_admin)
class OperatorGroupAdmin(OperatorAuditedMixin, GroupAdmin):
    pass


@admin.register(AccessAttempt, site=public_admin)
class LockoutAdmin(AccessAttemptAdmin):
    """Failed logins counted by django-axes; deleting the rows (or the action) unlocks."""

    actions = ["unlock"]

    @admin.action(description=_("Unlock (forget these failed logins)"))
    def unlock(self, request, queryset):
        for attempt in queryset:
            site_audit_record(actor=request.user.get_username(), source=AuditSource.ADMIN,
                              action="login_unlocked", obj_type="axes.accessattempt",
                              obj_id=attempt.pk,
                              obj_repr=f"{attempt.username} from {attempt.ip_address}",
                              ip=client_ip(request))
        count = queryset.count()
        queryset.delete()
        self.message_user(request, ngettext(
            "Unlocked %(count)d locked or counted login.",
            "Unlocked %(count)d locked or counted logins.", count) % {"count": count})


@admin.register(OperatorAuditEntry, site=public_admin)
class OperatorAuditEntryAdmin(AppendOnlyAdminMixin, AuditLogAdmin):
    """The operators' chain: logins, lockouts, unlocks and every change made here."""


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = TenantMembership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]


@admin.register(Tenant, site=public_admin)
class TenantAdmin(OperatorAuditedMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "allow_private_targets", "require_two_factor",
                    "created_at"]
    search_fields = ["name", "slug"]
    inlines = [DomainInline, MembershipInline]
    audit_secret_fields = ("link_signing_key", "link_signing_keys_retired")

    def audit_tenant(self, obj) -> Tenant | None:
        return obj if Tenant.objects.filter(pk=obj.pk).exists() else None

    def audit_extra(self, obj) -> dict:
        return {
            "domains": sorted(obj.domains.values_list("domain", flat=True)),
            "members": sorted(
                f"{username}:{role}" for username, role in
                obj.memberships.values_list("user__username", "role")
            ),
        }

    def get_readonly_fields(self, request, obj=None):
        # The schema is created with the tenant; renaming it would orphan it.
        return ["schema_name"] if obj else []


@admin.register(Domain, site=public_admin)
class DomainAdmin(OperatorAuditedMixin, admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_filter = ["tenant"]


@admin.register(TenantMembership, site=public_admin)
class OperatorMembershipAdmin(OperatorAuditedMixin, admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["tenant", "role"]
    raw_id_fields = ["user"]


@admin.register(IngestKey, site=public_admin)
class IngestKeyAdmin(OperatorAuditedMixin, admin.ModelAdmin):
    list_display = ["name", "tenant", "prefix", "created_at", "revoked_at"]
    list_filter = ["tenant"]
    readonly_fields = ["prefix", "key_hash", "created_at"]
    fields = ["tenant", "name", "prefix", "created_at", "revoked_at"]
    audit_secret_fields = ("key_hash",)

    def has_add_permission(self, request):
        # Keys are shown once when created: `manage.py create_tenant` or the API.
        return False


# --- In the tenant's own admin (the default site): its members and ingest keys ---


def _tenant(request) -> Tenant:
    return connection.tenant


class MembershipForm(forms.ModelForm):
    username = forms.CharField(
        label=_("Username"), help_text=_("An existing user (operators create users).")
    )

    class Meta:
        model = TenantMembership
        fields = ["role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.get_username()
            self.fields["username"].disabled = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if not self.instance.pk and membership_candidate(username=username) is None:
            # One message for a name that does not exist and one that cannot be added,
            # so the form does not tell which accounts exist.
            raise forms.ValidationError(UNKNOWN_MEMBER)
        return username


@admin.register(TenantMembership)
class TenantMembershipAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Members of this tenant; only its admins see or change them."""

    view_role = edit_role = Role.ADMIN
    form = MembershipForm
    list_display = ["user", "role", "created_at"]
    list_filter = ["role"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=_tenant(request))

    def save_model(self, request, obj, form, change):
        if change:
            request._herald_audit = (self._audit_state(TenantMembership.objects.get(pk=obj.pk)),
                                     None)
        else:
            request._herald_audit = (None, None)
        saved = membership_set(
            tenant=_tenant(request), username=form.cleaned_data["username"],
            role=form.cleaned_data["role"],
        )
        obj.pk, obj.user_id, obj.tenant_id = saved.pk, saved.user_id, saved.tenant_id


class TenantIngestKey(IngestKey):
    """The tenant's view of its own ingest keys (same table)."""

    class Meta:
        proxy = True
        verbose_name = _("ingest key")
        verbose_name_plural = _("ingest keys")


class IngestKeyCreateForm(forms.ModelForm):
    class Meta:
        model = TenantIngestKey
        fields = ["name"]


@admin.register(TenantIngestKey)
class TenantIngestKeyAdmin(RolePermissionsMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Create (the key is shown once) and revoke; only the tenant's admins."""

    view_role = edit_role = act_role = Role.ADMIN
    audit_secret_fields = ("key_hash",)
    form = IngestKeyCreateForm
    list_display = ["name", "prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=_tenant(request))

    def get_readonly_fields(self, request, obj=None):
        return ["name", "prefix", "created_at", "revoked_at"] if obj else []

    def has_change_permission(self, request, obj=None):
        return False  # keys are created or revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, for the record

    def save_model(self, request, obj, form, change):
        request._herald_audit = (None, None)
        key, plain = ingest_key_create(tenant=_tenant(request), name=obj.name)
        obj.pk, obj.prefix, obj.created_at = key.pk, key.prefix, key.created_at
        self.message_user(
            request, _("Ingest key %(name)r: %(key)s (shown once: copy it now).")
            % {"name": obj.name, "key": plain},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected keys"), permissions=["act"])
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            before = self._audit_state(key)
            hashed_key_revoke(key=key)
            self._audit(request, action="revoke", obj=key, before=before,
                        after=self._audit_state(key))
        self.message_user(request, _("Revoked."))


from tenants import admin_tokens  # noqa: E402, F401 - registers the tenant API token page
