// The little the pages need beyond HTML forms: the upload's progress, "+" rows, and the fields
// of the chosen transfer method. Everything works without it (plain form posts).
(function () {
  "use strict";
  function targetFields() {
    var select = document.querySelector("[data-switch=target]");
    if (!select) return;
    var show = function () {
      document.querySelectorAll("[data-when-target]").forEach(function (box) {
        box.hidden = box.dataset.whenTarget.split(" ").indexOf(select.value) < 0;
      });
    };
    select.addEventListener("change", show);
    show();
  }
  function addRows() {
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.addEventListener("click", function () {
        var rows = document.querySelector("[data-rows=" + button.dataset.addRow + "]");
        var last = rows.lastElementChild;
        var copy = last.cloneNode(true);
        copy.classList.remove("invalid");
        copy.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
        copy.querySelectorAll("input").forEach(function (input) {
          if (input.type === "radio") { input.checked = false; input.value = String(rows.children.length); }
          else input.value = "";
        });
        rows.appendChild(copy);
      });
    });
  }
  function uploads() {
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var bar = form.querySelector("progress"), label = form.querySelector(".progress-text");
        var error = form.querySelector(".upload-error");
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("Accept", "application/json");
        bar.hidden = false; if (label) label.hidden = false; error.hidden = true;
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
        xhr.onload = function () {
          var body = {};
          try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
          if (xhr.status < 300 && body.location) { bar.value = 100; window.location = body.location; return; }
          bar.hidden = true; if (label) label.hidden = true;
          error.textContent = body.error || xhr.statusText; error.hidden = false;
        };
        xhr.onerror = function () { bar.hidden = true; error.textContent = "network error"; error.hidden = false; };
        xhr.send(new FormData(form));
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { targetFields(); addRows(); uploads(); });
})();
