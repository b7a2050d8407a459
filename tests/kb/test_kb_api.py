"""The knowledge base over HTTP: who may do what, and what a client sees."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.accounts import auth
from kefu.accounts.models import Role
from kefu.kb import service as kb
from tests.factories import PASSWORD, ShopWithStaff
from tests.kb.conftest import UowFactory, add

API = "/api/v1/kb"


def _log_in(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "mianli", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


@pytest.fixture
def clients(app: FastAPI, shop: ShopWithStaff) -> Iterator[dict[str, tuple[TestClient, dict]]]:
    """A logged-in client (and its write headers) per role."""
    with ExitStack() as stack:
        found = {}
        for role, agent in (
            ("owner", shop.owner),
            ("supervisor", shop.supervisor),
            ("agent", shop.agent),
        ):
            client = stack.enter_context(TestClient(app))
            found[role] = (client, _log_in(client, agent.email))
        yield found


def test_supervisors_write_the_kb_and_every_agent_reads_it(
    clients: dict[str, tuple[TestClient, dict]], shop: ShopWithStaff
) -> None:
    lead, lead_headers = clients["supervisor"]
    agent, agent_headers = clients["agent"]
    body = {
        "questions": ["什么时候发货", "啥时候发货呀"],
        "answer": "48小时内发货",
        "category": "发货",
    }
    refused = agent.post(f"{API}/entries", json=body, headers=agent_headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    created = lead.post(f"{API}/entries", json=body, headers=lead_headers)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["questions"] == ["什么时候发货", "啥时候发货呀"]
    assert (entry["enabled"], entry["hit_count"], entry["created_by_id"]) == (
        True,
        0,
        shop.supervisor.id,
    )
    url = f"{API}/entries/{entry['id']}"
    # Agents read entries, search them and get suggestions ...
    assert agent.get(url).json()["answer"] == "48小时内发货"
    listed = agent.get(f"{API}/entries", params={"q": "发货"}).json()
    assert (listed["total"], [e["id"] for e in listed["entries"]]) == (1, [entry["id"]])
    suggested = agent.get(f"{API}/suggest", params={"text": "几天发货呀"}).json()
    assert suggested[0]["entry_id"] == entry["id"] and 0 < suggested[0]["score"] <= 1
    matched = agent.get(f"{API}/match", params={"text": "啥时候发货呀"}).json()
    assert (matched["kind"], matched["answer"]["entry_id"]) == ("answer", entry["id"])
    # ... but change nothing, export nothing, and see neither the inbox nor the lint.
    assert agent.patch(url, json={"answer": "改"}, headers=agent_headers).status_code == 403
    assert agent.delete(url, headers=agent_headers).status_code == 403
    for path in ("/export", "/unanswered", "/lint"):
        assert agent.get(API + path).status_code == 403, path
    files = {"file": ("kb.csv", "问题,答案\n在吗,在的\n".encode(), "text/csv")}
    assert agent.post(f"{API}/import", files=files, headers=agent_headers).status_code == 403
    # The supervisor changes and deletes.
    patched = lead.patch(url, json={"enabled": False}, headers=lead_headers)
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert patched.json()["answer"] == "48小时内发货"  # fields not sent stay
    assert agent.get(f"{API}/match", params={"text": "啥时候发货呀"}).json()["kind"] == "none"
    assert lead.delete(url, headers=lead_headers).status_code == 204
    assert agent.get(url).status_code == 404


def test_a_refused_entry_says_which_field_in_the_callers_language(
    clients: dict[str, tuple[TestClient, dict]], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    owner, headers = clients["owner"]
    first = add(uow_factory, shop, ["能开发票吗"], "可以")
    unknown = owner.post(
        f"{API}/entries",
        json={"questions": ["在吗"], "answer": "您好{nick}"},
        headers=headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "answer"
    assert "{nick}" in unknown.json()["error"]["message"]
    assert "不是可用的变量" in unknown.json()["error"]["message"]
    taken = owner.post(
        f"{API}/entries",
        json={"questions": ["能開發票嗎"], "answer": "可以"},
        headers={**headers, "Accept-Language": "en"},
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["message"] == (
        f"The phrasing “能开发票吗” already belongs to entry #{first.id}"
    )
    empty = owner.post(f"{API}/entries", json={"questions": [], "answer": "x"}, headers=headers)
    assert empty.status_code == 422


def test_patch_changes_only_what_is_sent_and_null_clears(
    clients: dict[str, tuple[TestClient, dict]], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    owner, headers = clients["owner"]
    with uow_factory() as uow:
        hoodie = kb.product_by_sku(uow.session, shop_id=shop.shop.id, sku="ML-HD001")
    entry = add(uow_factory, shop, ["起球吗"], "不起球", "面料", product_id=hoodie)
    url = f"{API}/entries/{entry.id}"
    kept = owner.patch(url, json={"questions": ["起球吗", "会起球吗"]}, headers=headers).json()
    assert (kept["product_id"], kept["product_sku"], kept["category"]) == (
        hoodie,
        "ML-HD001",
        "面料",
    )
    cleared = owner.patch(url, json={"product_id": None}, headers=headers).json()
    assert (cleared["product_id"], cleared["questions"]) == (None, ["起球吗", "会起球吗"])
    bad_image = owner.patch(url, json={"image_key": "nope.png"}, headers=headers)
    assert bad_image.status_code == 422 and bad_image.json()["error"]["field"] == "image"


def test_an_image_uploaded_by_staff_goes_with_the_answer(
    clients: dict[str, tuple[TestClient, dict]],
) -> None:
    owner, headers = clients["owner"]
    png = b"\x89PNG\r\n\x1a\n" + b"size chart"
    uploaded = owner.post(
        "/api/v1/uploads", files={"file": ("尺码表.png", png, "image/png")}, headers=headers
    )
    assert uploaded.status_code == 201, uploaded.text
    key = uploaded.json()["url"].removeprefix("/uploads/")
    created = owner.post(
        f"{API}/entries",
        json={"questions": ["有尺码表吗"], "answer": "请看图", "image_key": key},
        headers=headers,
    ).json()
    assert created["image_key"] == key
    assert owner.get(f"/uploads/{key}").content == png
    removed = owner.patch(
        f"{API}/entries/{created['id']}", json={"image_key": None}, headers=headers
    ).json()
    assert removed["image_key"] is None


def test_import_reports_every_broken_row_and_export_reads_back(
    clients: dict[str, tuple[TestClient, dict]],
) -> None:
    owner, headers = clients["owner"]
    broken = "问题,答案,启用\n什么时候发货,48小时内,是\n在吗,,是\n有XL吗,有,可能\n"
    response = owner.post(
        f"{API}/import",
        files={"file": ("kb.csv", broken.encode("utf-8"), "text/csv")},
        headers=headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("import_rejected", "file")
    assert error["message"] == "有 2 行需要修改,没有导入任何内容"
    assert [(r["row"], r["column"]) for r in error["rows"]] == [(3, "答案"), (4, "启用")]
    assert error["rows"][0]["message"] == "请填写答案"
    assert owner.get(f"{API}/entries").json()["total"] == 0
    fixed = broken.replace("在吗,,", "在吗,在的亲,").replace("可能", "否")
    checked = owner.post(
        f"{API}/import",
        params={"dry_run": "true"},
        files={"file": ("kb.csv", fixed.encode(), "text/csv")},
        headers=headers,
    )
    assert checked.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": True}
    assert owner.get(f"{API}/entries").json()["total"] == 0
    done = owner.post(
        f"{API}/import", files={"file": ("kb.csv", fixed.encode(), "text/csv")}, headers=headers
    )
    assert done.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": False}
    exported = owner.get(f"{API}/export")
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="kb.csv"' in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "问题", "答案", "分类", "启用", "商品SKU", "命中次数"]
    assert [r[1] for r in rows[1:]] == ["什么时候发货", "在吗", "有XL吗"]
    xlsx = owner.get(f"{API}/export", params={"format": "xlsx"})
    assert xlsx.content.startswith(b"PK")
    again = owner.post(
        f"{API}/import",
        files={"file": ("kb.xlsx", xlsx.content, "application/octet-stream")},
        headers=headers,
    )
    assert again.json()["unchanged"] == 3
    wrong = owner.post(
        f"{API}/import",
        files={"file": ("kb.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "x")},
        headers={**headers, "Accept-Language": "en"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["message"] == (
        "Old .xls files are not supported: save it as .xlsx or CSV"
    )


def test_unanswered_questions_are_worked_over_the_api(
    clients: dict[str, tuple[TestClient, dict]], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    lead, headers = clients["supervisor"]
    ship = add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    for question in ("可以开发票吗", "能开发票吗", "啥时候发货呀", "在吗"):
        with uow_factory() as uow:
            kb.record_unanswered(uow, shop_id=shop.shop.id, text=question)
    groups = lead.get(f"{API}/unanswered").json()
    assert groups["total"] == 3
    by_text = {g["representative"]: g for g in groups["groups"]}
    invoice = by_text["可以开发票吗"]
    assert (invoice["count"], invoice["examples"]) == (2, ["可以开发票吗", "能开发票吗"])
    assert by_text["啥时候发货呀"]["nearest"][0]["entry_id"] == ship.id
    made = lead.post(
        f"{API}/unanswered/{invoice['id']}/entry",
        json={"answer": "可以开电子发票", "category": "发票"},
        headers=headers,
    )
    assert made.status_code == 201
    assert made.json()["questions"] == ["可以开发票吗", "能开发票吗"]
    joined = lead.post(
        f"{API}/unanswered/{by_text['啥时候发货呀']['id']}/phrasing",
        json={"entry_id": ship.id},
        headers=headers,
    )
    assert joined.json()["questions"] == ["什么时候发货", "啥时候发货呀"]
    ignored = lead.post(f"{API}/unanswered/{by_text['在吗']['id']}/ignore", headers=headers)
    assert ignored.json()["status"] == "ignored"
    assert lead.get(f"{API}/unanswered").json() == {"total": 0, "groups": []}
    assert lead.get(f"{API}/unanswered", params={"status": "resolved"}).json()["total"] == 2
    twice = lead.post(f"{API}/unanswered/{by_text['在吗']['id']}/ignore", headers=headers)
    assert twice.status_code == 409


def test_lint_over_the_api(
    clients: dict[str, tuple[TestClient, dict]], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    lead, _ = clients["supervisor"]
    first = add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    second = add(uow_factory, shop, ["什么时候发货呢"], "72小时内发货")
    report = lead.get(f"{API}/lint").json()
    assert report["entries"] == 2
    assert [(p["first_id"], p["second_id"], p["detail"]) for p in report["contradictions"]] == [
        (first.id, second.id, "48小时 / 72小时")
    ]


def test_an_integration_token_reads_and_an_owner_token_writes(
    app: FastAPI, uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    owner = auth.Principal(
        shop_id=shop.shop.id,
        role=Role.OWNER,
        agent_id=shop.owner.id,
        name="掌柜",
        via="session",
        credential_id=0,
    )
    with uow_factory() as uow:
        reader = auth.create_api_token(
            uow, shop_id=shop.shop.id, name="读", role=Role.AGENT, created_by=owner
        ).raw
    with uow_factory() as uow:
        writer = auth.create_api_token(
            uow, shop_id=shop.shop.id, name="写", role=Role.OWNER, created_by=owner
        ).raw
    body = {"questions": ["在吗"], "answer": "在的"}
    with TestClient(app) as client:
        as_reader = {"Authorization": f"Bearer {reader}"}
        as_writer = {"Authorization": f"Bearer {writer}"}
        assert client.post(f"{API}/entries", json=body, headers=as_reader).status_code == 403
        made = client.post(f"{API}/entries", json=body, headers=as_writer)
        assert made.status_code == 201 and made.json()["created_by_id"] is None
        assert client.get(f"{API}/entries", headers=as_reader).json()["total"] == 1


def test_the_openapi_document_describes_the_kb(app: FastAPI) -> None:
    with TestClient(app) as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/kb/entries",
        "/api/v1/kb/entries/{entry_id}",
        "/api/v1/kb/suggest",
        "/api/v1/kb/match",
        "/api/v1/kb/import",
        "/api/v1/kb/export",
        "/api/v1/kb/unanswered",
        "/api/v1/kb/unanswered/{group_id}/entry",
        "/api/v1/kb/unanswered/{group_id}/phrasing",
        "/api/v1/kb/unanswered/{group_id}/ignore",
        "/api/v1/kb/lint",
    } <= set(paths)
    assert paths["/api/v1/kb/entries"]["post"]["tags"] == ["knowledge base"]
