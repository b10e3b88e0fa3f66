// Checklist rules the phone needs before the server sees anything: what counts as answered,
// which photos are needed, what is missing before submit. The server checks again.

/** True for items that are scored (every type but text): they must be answered or N/A. */
export function scored(item) {
  return item.type !== "text";
}

/** True when the item has an answer (N/A counts: it is stored as null). */
export function answered(answers, item) {
  return Object.prototype.hasOwnProperty.call(answers, item.id) && (item.type !== "text" || answers[item.id] !== "");
}

/** The fraction an answer earns (null for N/A or unanswered), as the server scores it. */
export function fraction(item, value) {
  if (value == null) return null;
  if (item.type === "yes_no") return value === true ? 1 : 0;
  if (item.type === "scale") return (value - item.min) / (item.max - item.min);
  if (item.type === "number") {
    for (const band of item.bands) if (band.upto == null || value <= band.upto) return band.score;
    return 0;
  }
  if (item.type === "choice") return item.options.find((o) => o.id === value)?.score ?? null;
  return null;
}

/** Photos an item still needs: "required", "on_fail" or null. */
export function photoNeed(item, answers, photoCount) {
  if (photoCount > 0 || item.photo === "none" || !item.photo) return null;
  const has = Object.prototype.hasOwnProperty.call(answers, item.id);
  if (item.photo === "required") return has && answers[item.id] === null ? null : "required";
  if (item.photo === "on_fail" && has) {
    const f = fraction(item, answers[item.id]);
    if (f != null && f < 1) return "on_fail";
  }
  return null;
}

/** Per section: {answered, total} over scored items. */
export function sectionProgress(section, answers) {
  const items = section.items.filter(scored);
  return { answered: items.filter((i) => answered(answers, i)).length, total: items.length };
}

/** Everything missing before submit, in checklist order: [{section, sectionIndex, item, reason}]. */
export function missing(checklist, answers, photoCounts) {
  const out = [];
  checklist.sections.forEach((section, sectionIndex) => {
    for (const item of section.items) {
      if (scored(item) && !answered(answers, item)) out.push({ section, sectionIndex, item, reason: "noAnswer" });
      const need = photoNeed(item, answers, photoCounts[item.id] || 0);
      if (need) out.push({ section, sectionIndex, item, reason: need === "required" ? "needPhoto" : "needPhotoFail" });
    }
  });
  return out;
}

/** Where an item is: {section, sectionIndex}. */
export function locate(checklist, itemId) {
  for (const [sectionIndex, section] of checklist.sections.entries()) {
    if (section.items.some((i) => i.id === itemId)) return { section, sectionIndex };
  }
  return null;
}
