"""Every public page type is valid HTML according to the Nu HTML checker (vnu.jar, `make vnu`)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.template import loader
from django.utils import timezone

from blog.models import PostNote
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    SeriesFactory,
    TagFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

VNU_JAR = Path(
    os.environ.get("VNU_JAR")
    or Path(settings.BASE_DIR) / ".tools/node_modules/vnu-jar/build/dist/vnu.jar"
)

POST_BODY = r"""
Attention 的核心是 $\operatorname{softmax}(QK^\top/\sqrt{d})V$，见式 $\eqref{eq:rope}$。

## 旋转位置编码

$$\begin{equation}\boldsymbol{q}_m^\top\boldsymbol{k}_n = \text{Re}\left[\sum_i q_i k_i^* e^{\text{i}(m-n)\theta_i}\right]\label{eq:rope}\end{equation}$$

与文字相连的公式$$x^2 + y^2 = z^2$$继续。

### 小节 $x^2$ 与 [链接](https://kexue.fm/)

#### 更小一节

## 第二节

\begin{align}
a &= b \\
c &= d
\end{align}

| 记号 | 含义 |
| :--- | ---: |
| $x|y$ | 条件 |

```python
def f(x):
    return x < 1 and x > 0
```

脚注[^1]，链接 <https://kexue.fm/archives/8265>，图片 ![示意](/static/img/favicon.svg)。

<!--more-->

- 列表
  1. 嵌套

> 引用

[^1]: 脚注内容。
"""


def vnu_or_skip() -> Path:
    if not (VNU_JAR.is_file() and shutil.which("java")):
        message = f"the Nu HTML checker is missing ({VNU_JAR}): run `make vnu`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return VNU_JAR


def pages(client) -> dict[str, tuple[str, int]]:
    """name -> (URL, expected status): one of every public page type."""
    author = UserFactory(username="sujianlin")
    series = SeriesFactory(slug="rope", numbering="chinese")
    category = CategoryFactory(slug="信息时代", name="信息时代")
    tags = [TagFactory(slug="attention", name="attention"), TagFactory(slug="位置编码")]
    when = timezone.make_aware(timezone.datetime(2024, 5, 13, 10))
    post = PostFactory(
        authors=[author, UserFactory(username="guest", display_name="Guest")],
        title='Transformer升级之路：<旋转> & "编码"',
        body=POST_BODY,
        series=series,
        series_part=2,
        category=category,
        tags=tags,
        published_at=when,
        reader_count=84758,
        show_toc=True,
    )
    PostNote.objects.create(
        post=post, noted_at=when, text="更新：<式(1)> & 笔误，见 https://kexue.fm/"
    )
    PostFactory(authors=[author], series=series, series_part=1, published_at=when)
    PostFactory(authors=[author], series=series, series_part=3, published_at=when)
    for _ in range(settings.BLOG_POSTS_PER_PAGE + 2):
        PostFactory(authors=[author], category=category)
    # Two pages of comments: threads, a reply, a quote of a comment on the other page.
    first = CommentFactory(post=post, author_name='<读者> & "甲"', body="第一条 $x^2$")
    CommentFactory(post=post, parent=first, body="回复第一条")
    for _ in range(settings.BLOG_COMMENTS_PER_PAGE):
        CommentFactory(post=post, body="> [#1](#comment-1) **甲**：第一条\n\n同意。")
    return {
        "home": ("/", 200),
        "page-2": ("/page/2/", 200),
        "post": (post.get_absolute_url(), 200),
        "post-comment-page-2": (f"{post.get_absolute_url()}comment-page-2/", 200),
        "series": (series.get_absolute_url(), 200),
        "series-index": ("/series/", 200),
        "category": (category.get_absolute_url(), 200),
        "tag": (tags[0].get_absolute_url(), 200),
        "archive": ("/archives/", 200),
        "month": ("/archives/2024/05/", 200),
        "search-hits": ("/search/?q=旋转", 200),
        "search-none": ("/search/?q=%3Cnothing%3E", 200),
        "search-empty": ("/search/", 200),
        "not-found": ("/archives/999999/", 404),
    }


def test_every_public_page_type_is_valid_html(client, tmp_path):
    jar = vnu_or_skip()
    files = []
    for name, (url, status) in pages(client).items():
        response = client.get(url)
        assert response.status_code == status, url
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files.append(path)
    (tmp_path / "server-error.html").write_text(loader.render_to_string("500.html"))
    (tmp_path / "lockout.html").write_text(
        loader.render_to_string("registration/lockout.html", {"minutes": 15})
    )
    files += [tmp_path / "server-error.html", tmp_path / "lockout.html"]

    result = subprocess.run(
        ["java", "-Xss1m", "-jar", str(jar), "--format", "json", "--stdout", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    report = "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']} "
        f"[{m.get('extract', '').strip()[:120]}]"
        for m in errors
    )
    assert errors == [], report
    assert result.returncode == 0, result.stderr


def test_the_checker_reports_invalid_html(tmp_path):
    """The control: the same invocation does fail on a broken page."""
    jar = vnu_or_skip()
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html lang=en><title>x</title><p><div>x</div></span>")
    result = subprocess.run(
        ["java", "-jar", str(jar), "--format", "json", "--stdout", str(broken)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stdout)["messages"]
    assert any(m["type"] == "error" for m in messages)
