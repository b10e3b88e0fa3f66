// The screens of the branch side and HQ (managers, directors, employees, reviewers, admins).
// Each module registers its own routes, menu entries and texts when imported.
import "./manager.js";
import "./audit.js";
import "./employee.js";
import "./director.js";
import "./reviewqueue.js";
import "./admin.js";
