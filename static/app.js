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

document.addEventListener("click", (event) => {
  // One header menu open at a time; a click elsewhere closes them.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) {
      menu.open = false;
    }
  }
});

document.addEventListener("DOMContentLoaded", () => {
  // Phones stack table rows (app.css): give every cell its column's name as a label, unless
  // the page set one.
  for (const table of document.querySelectorAll("table")) {
    const heads = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      Array.from(row.children).forEach((cell, i) => {
        if (heads[i] && !cell.dataset.label) {
          cell.dataset.label = heads[i];
        }
      });
    }
  }
  // Exact UTC times in tables ("2026-12-01 13:18:00 UTC") read relative ("3 days ago"), with the
  // exact time kept on hover, as GitHub shows them. Without this file they stay exact.
  const exact = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?: UTC|Z)$/;
  const words = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const cell of document.querySelectorAll("td")) {
    const text = cell.textContent.trim();
    const m = cell.children.length === 0 && exact.exec(text);
    if (!m) {
      continue;
    }
    const at = Date.parse(`${m[1]}T${m[2]}Z`);
    const secs = Math.round((at - Date.now()) / 1000);
    const unit = units.find(([, size]) => Math.abs(secs) >= size);
    const time = document.createElement("time");
    time.dateTime = new Date(at).toISOString();
    time.title = text;
    time.textContent = unit ? words.format(Math.round(secs / unit[1]), unit[0]) : "just now";
    cell.replaceChildren(time);
  }
});
