// ferrobridge admin: small progressive enhancements; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" checkbox of a change list.
  const all = document.getElementById("action-toggle");
  if (all) {
    const boxes = () => document.querySelectorAll("input.action-select");
    const mark = (box) => box.closest("tr").classList.toggle("selected", box.checked);
    all.addEventListener("change", () => boxes().forEach((b) => { b.checked = all.checked; mark(b); }));
    boxes().forEach((b) => b.addEventListener("change", () => mark(b)));
  }
});
