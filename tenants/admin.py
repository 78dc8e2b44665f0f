"""The operators' admin on the public site (tenants, domains, keys, members), and the
tenant admin's own pages for its members and ingest keys (admins of the tenant only)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import connection

from alerting.audit.admin import AuditedAdminMixin
from tenants.membership import membership_set
from tenants.models import Domain, IngestKey, Role, Tenant, TenantMembership
from tenants.roles import RolePermissionsMixin
from tenants.services import hashed_key_revoke, ingest_key_create


class PublicAdminSite(admin.AdminSite):
    site_header = "Herald operations"
    site_title = "Herald operations"


public_admin = PublicAdminSite(name="public_admin")
public_admin.register(User, UserAdmin)
public_admin.register(Group, GroupAdmin)


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
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "allow_private_targets", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [DomainInline, MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The schema is created with the tenant; renaming it would orphan it.
        return ["schema_name"] if obj else []


@admin.register(IngestKey, site=public_admin)
class IngestKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "prefix", "created_at", "revoked_at"]
    list_filter = ["tenant"]
    readonly_fields = ["prefix", "key_hash", "created_at"]
    fields = ["tenant", "name", "prefix", "created_at", "revoked_at"]

    def has_add_permission(self, request):
        # Keys are shown once when created: `manage.py create_tenant` or the API.
        return False


# --- In the tenant's own admin (the default site): its members and ingest keys ---


def _tenant(request) -> Tenant:
    return connection.tenant


class MembershipForm(forms.ModelForm):
    username = forms.CharField(help_text="An existing user (operators create users).")

    class Meta:
        model = TenantMembership
        fields = ["role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.get_username()
            self.fields["username"].disabled = True


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
        verbose_name = "ingest key"


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
            request, f"Ingest key {obj.name!r}: {plain} (shown once: copy it now).",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys", permissions=["act"])
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            before = self._audit_state(key)
            hashed_key_revoke(key=key)
            self._audit(request, action="revoke", obj=key, before=before,
                        after=self._audit_state(key))
        self.message_user(request, "Revoked.")
