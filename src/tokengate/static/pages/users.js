// The users pages: the block confirmation and where the keyboard focus goes after a change.
"use strict";

(function () {
  // the button that opened the dialog, and the part of the page its answer replaces
  let opener = null;
  let target = null;

  function dialog() {
    return document.getElementById("block-dialog");
  }

  // Focus what replaced the opener: the new row's button, or the person's name on their page.
  function refocus(selector) {
    const place = selector && document.querySelector(selector);
    if (!place) return;
    const next = place.querySelector("#user-title") || place.querySelector("[data-action]");
    if (next) next.focus();
  }

  // One <dialog> serves every "Block" button; showModal keeps the focus inside it, Esc closes it.
  function openFor(button) {
    const box = dialog();
    if (!box) return;
    const form = box.querySelector("form");
    form.reset();
    form.action = button.dataset.blockUrl;
    form.elements.view.value = button.dataset.view || "row";
    box.querySelector("#block-name").textContent = button.dataset.name;
    opener = button;
    target = button.dataset.target;
    box.showModal();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-block-url]");
    if (button) {
      openFor(button);
      return;
    }
    if (event.target.closest("[data-dialog-close]")) dialog().close();
  });

  // The focus goes back to the button that opened the dialog, or to what replaced it.
  document.addEventListener("close", (event) => {
    if (event.target.id !== "block-dialog") return;
    if (opener && opener.isConnected) opener.focus();
    else refocus(target);
  }, true);

  // Confirming sends the form with htmx: the answer replaces the row (or the person's page)
  // and puts its notice in #flash.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "block-form") return;
    event.preventDefault();
    const detail = form.elements.view.value === "detail";
    const done = () => dialog().close();
    window.htmx
      .ajax("POST", form.action, {
        source: form,
        target: target,
        swap: detail ? "innerHTML" : "outerHTML",
      })
      .then(done, done);
  });

  // After an unblock, or a change on the person's page, the focus follows the new content.
  document.addEventListener("htmx:afterSettle", (event) => {
    const box = dialog();
    if (box && box.open) return;
    const where = event.target;
    if (!where.isConnected || document.activeElement !== document.body) return;
    if (where.id === "user-detail" || where.matches("tr[data-user-id]")) refocus("#" + where.id);
  });
})();
