/* Site-wide behaviour for readers. Loaded deferred on every public page. */
(function () {
  "use strict";
})();
