// Live preview of a message template: posts the source as it is typed and
// shows the sandboxed rendering, or the error with its line, below the form.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    var box = document.getElementById("live-preview");
    if (!box) return;
    var form = box.closest("form");
    var output = document.getElementById("preview-output");
    var error = document.getElementById("preview-error");
    var timer = null;

    function field(name) {
      var el = form.querySelector("[name=" + name + "]");
      return el ? el.value : "";
    }

    function show(data) {
      if (data.retry_after) {
        // Over the preview rate or every preview slot busy: try again, later.
        error.textContent = data.error;
        clearTimeout(timer);
        timer = setTimeout(refresh, data.retry_after * 1000);
        return;
      }
      output.textContent = "";
      error.textContent = data.error ? data.error : "";
      if (data.render_ms !== undefined && data.render_ms !== null) {
        var timing = document.createElement("p");
        timing.className = "preview-timing";
        timing.textContent = "Rendered in " + data.render_ms + " ms of CPU; slowest check sample ("
          + data.check_sample + "): " + data.check_ms + " ms.";
        output.appendChild(timing);
      }
      var source = form.querySelector("[name=source]");
      if (source) source.setAttribute("aria-invalid", data.error ? "true" : "false");
      Object.keys(data.rendered || {}).forEach(function (status) {
        var h = document.createElement("h4");
        h.textContent = status;
        var pre = document.createElement("pre");
        pre.className = "preview-" + status;
        pre.textContent = data.rendered[status];
        output.appendChild(h);
        output.appendChild(pre);
      });
    }

    function refresh() {
      var body = new URLSearchParams();
      ["channel", "language", "part", "source", "csrfmiddlewaretoken"].forEach(function (n) {
        body.append(n, field(n));
      });
      body.append("notification", document.getElementById("preview-notification").value);
      fetch(box.dataset.url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {"X-CSRFToken": field("csrfmiddlewaretoken")},
      })
        .then(function (r) { return r.json(); })
        .then(show)
        .catch(function (e) { error.textContent = "Preview failed: " + e; });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }

    form.addEventListener("input", later);
    form.addEventListener("change", later);
    document.getElementById("preview-refresh").addEventListener("click", refresh);
    refresh();
  });
})();
