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

  document.querySelectorAll(".autocomplete").forEach(autocomplete);

  const changelist = document.getElementById("changelist");
  if (changelist && changelist.dataset.changesUrl) followChanges(changelist);
});

// The change list's "rows changed since this page was loaded" notice: the
// page carries the change log's cursor at render time, and this long-polls
// `data-changes-url` from it (each answer: the changed keys and the next
// cursor). Rows on the page that changed get the `changed` class. A 410
// (the log no longer holds the cursor) still means the page is stale.
// Stops when the answer is not JSON (logged out: the login page) or 403/404.
function followChanges(changelist) {
  const url = changelist.dataset.changesUrl;
  const notice = document.getElementById("changes-notice");
  let cursor = changelist.dataset.changesSince;
  const changed = new Set();
  let pause = 1000;
  const show = (text) => {
    const reload = document.createElement("a");
    reload.href = window.location.href;
    reload.textContent = "Reload";
    notice.replaceChildren(document.createTextNode(text + " "), reload);
    notice.hidden = false;
  };
  const mark = () => {
    document.querySelectorAll("#result_list tr[data-pk]").forEach((tr) => {
      if (changed.has(tr.dataset.pk)) tr.classList.add("changed");
    });
    const n = changed.size;
    show(`${n} ${n === 1 ? "row" : "rows"} changed since this page was loaded.`);
  };
  const poll = async () => {
    let response, data;
    try {
      const query = new URLSearchParams({ since: cursor });
      response = await fetch(`${url}?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const type = response.headers.get("Content-Type") || "";
      if (!type.startsWith("application/json")) return; // logged out: the login page
      data = await response.json();
    } catch (_) {
      // The server is restarting or the network is down: try again, less often.
      setTimeout(poll, pause);
      pause = Math.min(pause * 2, 60000);
      return;
    }
    pause = 1000;
    if (response.status === 410) { show("Rows changed since this page was loaded."); return; }
    if (response.status === 403 || response.status === 404 || response.status === 400) return;
    if (!response.ok) { setTimeout(poll, 5000); return; }
    cursor = data.cursor;
    if (data.changed.length) {
      data.changed.forEach((pk) => changed.add(String(pk)));
      mark();
    }
    poll();
  };
  poll();
}

// A foreign key's search-as-you-type box: the visible text box searches
// `data-url` (Django's select2 JSON), the hidden input holds the chosen key.
// Up/Down move, Enter picks, Escape closes; scrolling to the end of the
// list loads the next page.
function autocomplete(box) {
  const url = box.dataset.url;
  const input = box.querySelector(".autocomplete-input");
  const hidden = box.querySelector(".autocomplete-value");
  const list = box.querySelector("ul.choices");
  let chosen = input.value;
  let active = -1, page = 1, more = false, term = "", timer = null, seq = 0;
  const items = () => Array.from(list.querySelectorAll("li[role=option]"));
  const open = (on) => {
    list.hidden = !on;
    input.setAttribute("aria-expanded", on ? "true" : "false");
    if (!on) { active = -1; input.removeAttribute("aria-activedescendant"); }
  };
  const highlight = (i) => {
    const all = items();
    if (!all.length) return;
    active = (i + all.length) % all.length;
    all.forEach((li, n) => li.setAttribute("aria-selected", n === active ? "true" : "false"));
    input.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  };
  const pick = (li) => {
    hidden.value = li.dataset.id;
    input.value = chosen = li.textContent;
    open(false);
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const load = async (append) => {
    const mine = ++seq;
    const query = new URLSearchParams({ term, page: String(page) });
    let data;
    try {
      const response = await fetch(`${url}?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      data = await response.json();
    } catch (_) { return; }
    if (mine !== seq) return; // a newer search answered first
    if (!append) list.replaceChildren();
    data.results.forEach((r) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = `${input.id}_opt_${r.id}`;
      li.dataset.id = r.id;
      li.textContent = r.text; // text, never HTML
      li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(li); });
      list.appendChild(li);
    });
    if (!append && !data.results.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No results found";
      list.appendChild(li);
    }
    more = data.pagination && data.pagination.more;
    open(true);
  };
  const search = () => { term = input.value; page = 1; load(false); };
  input.addEventListener("input", () => {
    if (input.value === "") hidden.value = "";
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("focus", () => { if (list.hidden) { term = ""; page = 1; load(false); } });
  input.addEventListener("blur", () => {
    // Leaving the box without picking keeps the previous choice.
    if (input.value !== "" || hidden.value === "") input.value = hidden.value ? chosen : "";
    open(false);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); if (list.hidden) search(); else highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Enter" && !list.hidden) {
      e.preventDefault(); // Enter picks; it does not submit the form
      const all = items();
      if (active >= 0 && all[active]) pick(all[active]);
    } else if (e.key === "Escape" && !list.hidden) { e.preventDefault(); open(false); }
  });
  list.addEventListener("scroll", () => {
    if (more && list.scrollTop + list.clientHeight >= list.scrollHeight - 20) { more = false; page += 1; load(true); }
  });
}
