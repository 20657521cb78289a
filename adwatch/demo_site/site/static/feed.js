// The JS-rendered feed: the page ships an empty shell; posts arrive from the JSON endpoint
// ~0.4 s after load and are inserted with textContent (never innerHTML).
(function () {
  "use strict";
  var RENDER_DELAY_MS = 400;
  var box = document.getElementById("feed");
  if (!box) { return; }

  function formatTime(iso) {
    // "2026-11-01T22:30:00+08:00" -> "2026年11月01日 22:30" (the time as shown in China)
    var m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(iso);
    return m ? m[1] + "年" + m[2] + "月" + m[3] + "日 " + m[4] + ":" + m[5] : iso;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function render(data) {
    box.textContent = "";
    data.posts.forEach(function (post) {
      var item = element("article", "post");
      item.setAttribute("data-id", String(post.id));
      item.appendChild(element("div", "post-author", post.author));
      var time = element("time", "post-time", formatTime(post.time));
      time.setAttribute("datetime", post.time);
      item.appendChild(time);
      item.appendChild(element("p", "post-text", post.text));
      item.appendChild(element("div", "post-likes", "赞 " + post.likes));
      box.appendChild(item);
    });
    box.setAttribute("data-loaded", "true");
  }

  setTimeout(function () {
    fetch(box.getAttribute("data-source"), { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(render)
      .catch(function () { box.textContent = "加载失败，请稍后重试。"; });
  }, RENDER_DELAY_MS);
})();
