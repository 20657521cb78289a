/* AdWatch: keyboard shortcuts and small conveniences. The pages work without this file.
   No inline scripts anywhere (CSP: script-src 'self'); nothing here builds HTML from data. */
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    if (!t || !t.tagName) return false;
    var tag = t.tagName.toLowerCase();
    if (tag === "input") return ["checkbox", "radio", "button", "submit", "reset"].indexOf(t.type) < 0;
    return tag === "textarea" || tag === "select" || t.isContentEditable;
  }

  function submit(id) {
    var form = document.getElementById(id);
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  // Queue: J/K move the selection, Enter/O opens it.
  var rows = Array.prototype.slice.call(document.querySelectorAll("#queue-table tbody tr[data-href]"));
  var selected = -1;
  function select(i) {
    if (!rows.length) return;
    if (selected >= 0) rows[selected].classList.remove("selected");
    selected = Math.max(0, Math.min(rows.length - 1, i));
    rows[selected].classList.add("selected");
    rows[selected].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (row, i) {
    row.addEventListener("click", function (e) {
      if (e.target.closest("a, button, form")) return;
      select(i);
    });
  });

  // Decision form: ticking a label also ticks the legal bases it usually rests on.
  document.querySelectorAll("#confirm-form input[name=labels]").forEach(function (box) {
    box.addEventListener("change", function () {
      if (!box.checked) return;
      (box.getAttribute("data-bases") || "").split(" ").forEach(function (key) {
        if (!key) return;
        var basis = document.querySelector('#confirm-form input[name=legal_basis][value="' + CSS.escape(key) + '"]');
        if (basis) basis.checked = true;
      });
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    var key = event.key.toLowerCase();
    var handled = false;
    if (rows.length && (key === "j" || key === "arrowdown")) { select(selected + 1); handled = true; }
    else if (rows.length && (key === "k" || key === "arrowup")) { select(selected - 1); handled = true; }
    else if (rows.length && (key === "enter" || key === "o") && selected >= 0) {
      window.location.assign(rows[selected].getAttribute("data-href")); handled = true;
    }
    else if (key === "n") handled = submit("next-form");
    else if (key === "a") handled = submit("claim-form");
    else if (key === "c") handled = submit("confirm-form");
    else if (key === "r") handled = submit("reject-form");
    else if (key === "e") {
      var note = document.querySelector("#escalate-form textarea");
      if (note) { note.focus(); handled = true; }
    }
    if (handled) event.preventDefault();
  });
})();
