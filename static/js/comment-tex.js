/* The TeX a comment may give MathJax: the allow-list and limits of blog/comments/tex.py, applied
   in the browser to every formula inside a .comment-body before MathJax parses it
   (static/js/mathjax-config.js), so that a hostile comment already stored cannot crash, freeze or
   cover a reader's or a moderator's page. RULES is blog.comments.tex.client_rules(): a test
   (tests/blog/test_comment_tex.py) fails when the two differ. */
(function () {
  "use strict";

  // prettier-ignore
  var RULES = {"maxDepth":40,"maxFormulaChars":2000,"maxLengthEm":20,"commands":["\\\t","\\\n","\\ ","\\!","\\#","\\$","\\%","\\&","\\,","\\:","\\;","\\>","\\Big","\\Bigg","\\Biggl","\\Biggr","\\Bigl","\\Bigr","\\Box","\\Delta","\\Downarrow","\\Gamma","\\Im","\\Lambda","\\Leftarrow","\\Leftrightarrow","\\Longleftarrow","\\Longleftrightarrow","\\Longrightarrow","\\Omega","\\P","\\Phi","\\Pi","\\Pr","\\Psi","\\Re","\\Rightarrow","\\S","\\Sigma","\\Theta","\\Uparrow","\\Upsilon","\\Vert","\\Xi","\\\\","\\_","\\acute","\\aleph","\\alpha","\\amalg","\\angle","\\approx","\\arccos","\\arcsin","\\arctan","\\arg","\\ast","\\asymp","\\atop","\\backprime","\\backslash","\\bar","\\bcancel","\\because","\\begin","\\beta","\\beth","\\big","\\bigcap","\\bigcup","\\bigg","\\biggl","\\biggr","\\bigl","\\bigodot","\\bigoplus","\\bigotimes","\\bigr","\\bigsqcup","\\bigtriangledown","\\bigtriangleup","\\biguplus","\\bigvee","\\bigwedge","\\binom","\\blacksquare","\\bm","\\bmod","\\boldsymbol","\\bot","\\bowtie","\\boxed","\\breve","\\bullet","\\cancel","\\cancelto","\\cap","\\cdot","\\cdotp","\\cdots","\\cfrac","\\check","\\checkmark","\\chi","\\choose","\\circ","\\clubsuit","\\colon","\\color","\\colorbox","\\cong","\\coprod","\\copyright","\\cos","\\cosh","\\cot","\\coth","\\csc","\\cup","\\dagger","\\dashv","\\dbinom","\\ddagger","\\dddot","\\ddot","\\ddots","\\deg","\\degree","\\delta","\\det","\\dfrac","\\diamond","\\diamondsuit","\\digamma","\\dim","\\displaystyle","\\div","\\dot","\\doteq","\\dots","\\dotsb","\\dotsc","\\dotsi","\\dotsm","\\dotso","\\downarrow","\\ell","\\emptyset","\\end","\\enspace","\\epsilon","\\eqref","\\equiv","\\eta","\\exists","\\exp","\\flat","\\forall","\\frac","\\gamma","\\gcd","\\ge","\\geq","\\geqslant","\\gets","\\gg","\\ggg","\\grave","\\gt","\\gtrsim","\\hat","\\hbar","\\hdashline","\\heartsuit","\\hline","\\hom","\\hookleftarrow","\\hookrightarrow","\\hphantom","\\hslash","\\hspace","\\iff","\\iiint","\\iint","\\imath","\\impliedby","\\implies","\\in","\\inf","\\infty","\\int","\\iota","\\jmath","\\kappa","\\ker","\\kern","\\lVert","\\label","\\lambda","\\land","\\langle","\\lbrace","\\lbrack","\\lceil","\\ldotp","\\ldots","\\le","\\leadsto","\\left","\\leftarrow","\\leftrightarrow","\\leq","\\leqslant","\\lesssim","\\lfloor","\\lg","\\lim","\\liminf","\\limits","\\limsup","\\ll","\\lll","\\ln","\\lnot","\\log","\\longleftarrow","\\longleftrightarrow","\\longmapsto","\\longrightarrow","\\lor","\\lt","\\lvert","\\mapsto","\\mathbb","\\mathbf","\\mathbin","\\mathcal","\\mathclose","\\mathfrak","\\mathit","\\mathnormal","\\mathop","\\mathopen","\\mathord","\\mathpunct","\\mathrel","\\mathring","\\mathrm","\\mathscr","\\mathsf","\\mathstrut","\\mathtt","\\max","\\mbox","\\mid","\\middle","\\min","\\mkern","\\mod","\\models","\\mp","\\mu","\\nabla","\\natural","\\ne","\\nearrow","\\neg","\\negthinspace","\\neq","\\nexists","\\ngeq","\\ngtr","\\ni","\\nleq","\\nless","\\nmid","\\nolimits","\\nonumber","\\not","\\notag","\\notin","\\nu","\\nwarrow","\\odot","\\of","\\oint","\\omega","\\omicron","\\ominus","\\operatorname","\\oplus","\\oslash","\\otimes","\\over","\\overbrace","\\overleftarrow","\\overleftrightarrow","\\overline","\\overrightarrow","\\overset","\\parallel","\\partial","\\perp","\\phantom","\\phi","\\pi","\\pm","\\pmb","\\pmod","\\prec","\\preceq","\\prime","\\prod","\\propto","\\psi","\\qquad","\\quad","\\rVert","\\rangle","\\rbrace","\\rbrack","\\rceil","\\ref","\\rfloor","\\rho","\\right","\\rightarrow","\\rightharpoonup","\\rightleftharpoons","\\root","\\rvert","\\scriptscriptstyle","\\scriptstyle","\\searrow","\\sec","\\setminus","\\sharp","\\sigma","\\sim","\\simeq","\\sin","\\sinh","\\smash","\\spadesuit","\\sqcap","\\sqcup","\\sqrt","\\sqsubseteq","\\sqsupseteq","\\square","\\stackrel","\\star","\\strut","\\style","\\subset","\\subseteq","\\subsetneq","\\substack","\\succ","\\succeq","\\sum","\\sup","\\supset","\\supseteq","\\supsetneq","\\surd","\\swarrow","\\tag","\\tan","\\tanh","\\tau","\\tbinom","\\text","\\textbf","\\textcolor","\\textit","\\textnormal","\\textrm","\\textsf","\\textstyle","\\texttt","\\tfrac","\\therefore","\\theta","\\thinspace","\\tilde","\\times","\\to","\\top","\\triangle","\\triangleleft","\\triangleq","\\triangleright","\\underbrace","\\underline","\\underset","\\uparrow","\\updownarrow","\\uplus","\\upsilon","\\varepsilon","\\varkappa","\\varnothing","\\varphi","\\varpi","\\varrho","\\varsigma","\\vartheta","\\vdash","\\vdots","\\vec","\\vee","\\vert","\\vphantom","\\wedge","\\widehat","\\widetilde","\\wp","\\wr","\\xLeftarrow","\\xLeftrightarrow","\\xRightarrow","\\xcancel","\\xhookrightarrow","\\xi","\\xleftarrow","\\xleftrightarrow","\\xmapsto","\\xrightarrow","\\xtwoheadrightarrow","\\zeta","\\{","\\|","\\}"],"environments":["Bmatrix","Vmatrix","align","align*","aligned","array","bmatrix","cases","equation","equation*","gather","gather*","gathered","matrix","multline","multline*","pmatrix","smallmatrix","split","vmatrix"],"arguments":{"\\style":"css","\\color":"colour","\\textcolor":"colour","\\colorbox":"colour","\\hspace":"length","\\kern":"length","\\mkern":"length"},"cssProperties":["background-color","border","border-color","border-radius","border-style","border-width","color","display","font-style","font-weight","height","padding","padding-bottom","padding-left","padding-right","padding-top","width"],"patterns":{"colour":"^ *(#[0-9A-Fa-f]{3}|#[0-9A-Fa-f]{6}|[A-Za-z]{1,20}) *$","length":"^ *([-+]?)([0-9]+\\.?[0-9]*|\\.[0-9]+) *(em|ex|px|pt|pc|mm|cm|in|mu) *$","css_value":"^[ #A-Za-z0-9.-]{1,60}$","css_length":"([0-9]*\\.?[0-9]+)(em|ex|px|pt|pc|mm|cm|in|mu)","preamble":"^[lcr| :]{1,60}$"},"emPerUnit":{"em":1,"ex":0.5,"px":0.0625,"pt":0.1,"pc":1.2,"mm":0.24,"cm":2.4,"in":6,"mu":0.05555555555555555}};

  var COMMANDS = new Set(RULES.commands);
  var ENVIRONMENTS = new Set(RULES.environments);
  var PATTERNS = {};
  Object.keys(RULES.patterns).forEach(function (name) {
    PATTERNS[name] = new RegExp(RULES.patterns[name], name === "css_length" ? "g" : "");
  });
  var TOKEN = /\\([A-Za-z]+|[^]?)|%[^\n]*|[{}]|[^\\{}%]+/y;
  var GROUP = / *\{([^{}]*)\}/y;
  var BARE_LENGTH = / *[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+) *[a-z]{2}/y;

  function Refused(message) {
    this.message = message;
  }

  /* Why MathJax must not parse this formula (a short English reason), or null. */
  function problem(tex) {
    try {
      checkFormula(tex);
    } catch (error) {
      if (error instanceof Refused) return error.message;
      throw error;
    }
    return null;
  }

  function checkFormula(tex) {
    if (tex.length > RULES.maxFormulaChars) {
      throw new Refused("formula longer than " + RULES.maxFormulaChars + " characters");
    }
    var depth = 0;
    var position = 0;
    while (position < tex.length) {
      TOKEN.lastIndex = position;
      var text = TOKEN.exec(tex)[0];
      position = TOKEN.lastIndex;
      if (text === "{" || text === "}") {
        depth += text === "{" ? 1 : -1;
      } else if (text.charAt(0) === "\\") {
        var command = /^\\[A-Za-z]+$/.test(text) ? text : text.slice(0, 2);
        if (!COMMANDS.has(command)) throw new Refused(command + " is not allowed in comments");
        if (command === "\\left" || command === "\\begin") depth += 1;
        else if (command === "\\right" || command === "\\end") depth -= 1;
        if (command === "\\begin" || command === "\\end") position = environment(tex, position, command);
        else if (command === "\\\\") position = lineBreak(tex, position);
        else if (RULES.arguments[command]) position = checkedArgument(tex, position, command);
      }
      if (depth > RULES.maxDepth) throw new Refused("nested deeper than " + RULES.maxDepth + " levels");
    }
  }

  function group(tex, position, command) {
    GROUP.lastIndex = position;
    var match = GROUP.exec(tex);
    if (!match) throw new Refused(command + " needs a simple {} argument in comments");
    return [match[1], GROUP.lastIndex];
  }

  function environment(tex, position, command) {
    var found = group(tex, position, command);
    if (!ENVIRONMENTS.has(found[0])) throw new Refused("environment " + found[0] + " is not allowed in comments");
    if (command === "\\begin" && found[0] === "array") {
      var preamble = group(tex, found[1], "\\begin{array}");
      require("preamble", preamble[0], "\\begin{array}");
      return preamble[1];
    }
    return found[1];
  }

  function lineBreak(tex, position) {
    if (tex.charAt(position) === "*") position += 1;
    if (tex.charAt(position) !== "[") return position;
    var end = tex.indexOf("]", position);
    if (end < 0) return position;
    checkLength(tex.slice(position + 1, end), "\\\\");
    return end + 1;
  }

  function checkedArgument(tex, position, command) {
    var kind = RULES.arguments[command];
    if (kind === "length") {
      BARE_LENGTH.lastIndex = position;
      var bare = BARE_LENGTH.exec(tex);
      if (bare && tex.charAt(position) !== "{") {
        checkLength(bare[0], command);
        return BARE_LENGTH.lastIndex;
      }
    }
    var found = group(tex, position, command);
    if (kind === "length") checkLength(found[0], command);
    else if (kind === "colour") require("colour", found[0], command);
    else checkCss(found[0], command);
    return found[1];
  }

  function checkLength(value, command) {
    var match = require("length", value, command);
    if (parseFloat(match[2]) * RULES.emPerUnit[match[3]] > RULES.maxLengthEm) {
      throw new Refused(command + ": lengths are at most " + RULES.maxLengthEm + "em in comments");
    }
  }

  function checkCss(value, command) {
    value.split(";").forEach(function (declaration) {
      if (!declaration.trim()) return;
      var colon = declaration.indexOf(":");
      var name = (colon < 0 ? declaration : declaration.slice(0, colon)).trim().toLowerCase();
      var cssValue = colon < 0 ? "" : declaration.slice(colon + 1);
      if (RULES.cssProperties.indexOf(name) < 0) throw new Refused(command + ": " + name + " is not allowed in comments");
      require("css_value", cssValue.trim(), command);
      (cssValue.match(PATTERNS.css_length) || []).forEach(function (length) {
        var parts = /^([0-9]*\.?[0-9]+)([a-z]+)$/.exec(length);
        if (parseFloat(parts[1]) * RULES.emPerUnit[parts[2]] > RULES.maxLengthEm) {
          throw new Refused(command + ": lengths are at most " + RULES.maxLengthEm + "em in comments");
        }
      });
    });
  }

  function require(pattern, value, command) {
    var match = PATTERNS[pattern].exec(value);
    if (!match) throw new Refused(command + ": this value is not allowed in comments");
    return match;
  }

  window.CommentTeX = { rules: RULES, problem: problem };
})();
