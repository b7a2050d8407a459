// Knowledge base pages: one more phrasing field on demand; a confirmation before deleting.
(function () {
  "use strict";
  document.querySelectorAll("[data-kb-add-question]").forEach(function (button) {
    button.addEventListener("click", function () {
      var list = button.parentElement.querySelector(".kb-question-list");
      var last = list.querySelector("input:last-of-type");
      var field = document.createElement("input");
      field.name = "questions";
      field.maxLength = last ? last.maxLength : 200;
      field.setAttribute("aria-label", button.dataset.label + " " + (list.children.length + 1));
      list.appendChild(field);
      field.focus();
    });
  });
  document.querySelectorAll("form[data-kb-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.kbConfirm)) {
        event.preventDefault();
      }
    });
  });
})();
