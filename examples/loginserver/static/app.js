// loginserver's one script, loaded from this origin (the
// Content-Security-Policy allows 'self' and nothing inline). Without it every
// page still works: it only adds the show-password buttons, which the HTML
// ships hidden.
"use strict";
for (const button of document.querySelectorAll("button[data-reveal]")) {
  const input = document.getElementById(button.dataset.reveal);
  if (!input) continue;
  const word = button.querySelector(".word");
  button.hidden = false;
  button.addEventListener("click", () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    word.textContent = show ? "Hide" : "Show";
    input.focus();
  });
  // The password is never submitted from a text field, so the browser's
  // password manager sees a password field.
  input.form?.addEventListener("submit", () => {
    input.type = "password";
    word.textContent = "Show";
  });
}
