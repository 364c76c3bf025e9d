// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("click", (event) => {
  // Copy buttons: <button data-copy="#element-id">Copy</button>
  const button = event.target.closest("[data-copy]");
  if (button) {
    const source = document.querySelector(button.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        const label = button.textContent;
        button.textContent = "Copied";
        setTimeout(() => { button.textContent = label; }, 1500);
      });
    }
  }
});

document.addEventListener("submit", (event) => {
  // Destructive forms ask first: <form data-confirm="Revoke this key?">
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

document.addEventListener("change", (event) => {
  // Risky checkboxes ask when ticked: <input type=checkbox data-confirm-check="Grant full access?">
  const box = event.target;
  const message = box.dataset && box.dataset.confirmCheck;
  if (message && box.checked && !window.confirm(message)) {
    box.checked = false;
  }
});
