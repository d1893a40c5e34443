/* Raccord public site: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Address type-ahead: the search form already works as a plain GET; here the suggestion
  // list is refreshed as the person types, from a server-rendered fragment.
  document.querySelectorAll("form[data-suggest-url]").forEach(function (form) {
    var input = form.querySelector("input[name=q]");
    var target = document.getElementById(form.getAttribute("data-suggest-target"));
    if (!input || !target) {
      return;
    }
    var timer = null;
    var controller = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var query = input.value.trim();
        if (query.length < 3) {
          target.innerHTML = "";
          return;
        }
        if (controller) {
          controller.abort();
        }
        controller = new AbortController();
        var url = form.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query);
        fetch(url, { signal: controller.signal, credentials: "same-origin" })
          .then(function (response) {
            return response.ok ? response.text() : "";
          })
          .then(function (html) {
            target.innerHTML = html;
          })
          .catch(function () {
            /* aborted or offline: the submit button still works */
          });
      }, 250);
    });
  });

  // Blocks shown only for one choice of a radio group: data-show-if="name=value".
  var conditional = document.querySelectorAll("[data-show-if]");
  function refreshConditional() {
    conditional.forEach(function (block) {
      var rule = block.getAttribute("data-show-if").split("=");
      var checked = document.querySelector("input[name='" + rule[0] + "']:checked");
      block.hidden = !checked || checked.value !== rule[1];
    });
  }
  if (conditional.length) {
    document.addEventListener("change", refreshConditional);
    refreshConditional();
  }

  // Options only sold with some offers: show those of the chosen offer.
  var optionChoices = document.querySelectorAll(".choice[data-offers]");
  function refreshOptions() {
    var offer = document.querySelector("input[name=offer_code]:checked");
    optionChoices.forEach(function (choice) {
      var ok = !offer || choice.getAttribute("data-offers").split(" ").indexOf(offer.value) >= 0;
      choice.hidden = !ok;
      choice.querySelectorAll("input").forEach(function (box) {
        box.disabled = !ok;
      });
    });
  }
  if (optionChoices.length) {
    document.querySelectorAll("input[name=offer_code]").forEach(function (radio) {
      radio.addEventListener("change", refreshOptions);
    });
    refreshOptions();
  }

  // After a submit with errors, move the focus to the error summary so it is read first.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
})();
