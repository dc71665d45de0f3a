// What was walked: the history tab (with delete and Undo) and the progress tab.

import { Unreachable, deleteSession, getHistory, getWeek, getWeeks } from "../api.js";
import { TOAST_MS, showOnlineStatus, toast } from "../chrome.js";
import { h } from "../dom.js";
import { loadStrings, t } from "../i18n.js";
import { currentVisit, isCurrent, route } from "../router.js";
import { forgetFinishedWalk, localHistory } from "../walkstore.js";
import { app } from "./held.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** The walks of this device, the server's and those played offline here, newest first. */
export async function showHistory() {
  const visit = currentVisit();
  showOnlineStatus();
  let entries = [];
  let offline = false;
  let error = "";
  const screen = Promise.all([import("../screens/history.js"), loadStrings("more")]).then(([module]) => module);
  try {
    entries = await getHistory();
    offline = Boolean(entries.fromCache);
  } catch (failure) {
    offline = failure instanceof Unreachable;
    error = offline ? "" : failure.message;
  }
  if (!isCurrent(visit)) return;
  const all = [...entries, ...localHistory()].filter((entry) => !app.deleting.has(entry.id))
    .sort((a, b) => (b.started_at || 0) - (a.started_at || 0));
  const { renderHistory } = await screen;
  if (!isCurrent(visit)) return;
  renderHistory(main, { entries: all, offline, error, onDelete: deleteWalk });
}

/** Delete a walk from history, with an Undo: it leaves the screen at once, the server forgets it once the Undo is gone. */
function deleteWalk(entry) {
  app.deleting.add(entry.id);
  const refresh = () => { if (location.hash === "#/history") route(); };
  refresh();
  const timer = setTimeout(async () => {
    try {
      await deleteSession(entry.id);
      forgetFinishedWalk(entry.id);
    } catch (error) {
      toast(t("Could not delete it: {reason}", { reason: error.message }));
    }
    app.deleting.delete(entry.id);
    refresh();
  }, TOAST_MS);
  toast(t("Deleted “{name}”.", { name: entry.plan_name }), {
    label: t("Undo"),
    run: () => { clearTimeout(timer); app.deleting.delete(entry.id); refresh(); },
  });
}

/** This week against its target, and the weeks and walks before it. */
export async function showProgress() {
  const visit = currentVisit();
  showOnlineStatus();
  const results = await Promise.allSettled([import("../screens/progress.js"), getWeek(), getWeeks(), loadStrings("more")]);
  if (!isCurrent(visit)) return;
  const [screen, week, weeks] = results;
  if (screen.status === "rejected") {
    main.replaceChildren(h("p", { class: "error-box", text: t("This screen could not be loaded. Try again when you are connected.") }));
    return;
  }
  const failure = [week, weeks].find((r) => r.status === "rejected")?.reason;
  const weekAnswer = week.status === "fulfilled" ? week.value : null;
  screen.value.renderProgress(main, {
    week: weekAnswer,
    weeks: weeks.status === "fulfilled" ? weeks.value : null,
    offline: Boolean(weekAnswer?.fromCache || failure instanceof Unreachable),
    error: failure && !(failure instanceof Unreachable) ? failure.message : "",
  });
}
