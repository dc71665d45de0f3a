// What the app holds between screens: the plans list last fetched, the walk under way, edits
// left unsaved in the editor, and walks being deleted (the walk just finished is walkstore.js's).
// Only the controllers read and change it; one-shot route parameters travel in history.state
// instead (router.js). It loads with the page, so it imports nothing (planlist.js fetches the plans).

/** What the app holds between screens. */
export const app = {
  /** @type {Array<object>|null} the plans as last fetched (built-in ones, then the device's own) */
  plans: null,
  /** @type {import("../coach.js").Coach|null} the walk being prepared or walked */
  coach: null,
  /** @type {{hash: string, draft: object, units: string}|null} edits left unsaved in the editor, by its address */
  unsaved: null,
  /** @type {Set<string>} history entries deleted on screen whose Undo has not run out yet */
  deleting: new Set(),
};

/** @returns {boolean} true while a walk runs or is paused (not while it is only prepared) */
export const walking = () => app.coach?.state.state === "running" || app.coach?.state.state === "paused";
