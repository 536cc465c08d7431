"""The dashboard in a real browser: Playwright driving Debian's chromium.

    browser.py BASE TOKEN EMPLOYEE SHOTS_DIR AXE_JS

Run by tests/it/dashboard.rs against a node where EMPLOYEE (assisted) has three
outreach mails waiting for approval. Signs in, sees the team, approves the first mail
and sees it executed, rejects the second with a reason and sees it learned, then prints
WATCHING: the Rust test approves the third through the CLI, and the page must show it
without a reload. Every page passes axe-core with no violations. Screenshots of the
team view and the employee page go to SHOTS_DIR. Prints ALL PASSED at the end.
"""

import json
import os
import sys

from playwright.sync_api import expect, sync_playwright

BASE, TOKEN, WHO, SHOTS, AXE = sys.argv[1:6]
TIMEOUT = 45_000
REASON = "Too pushy for a first mail"


def step(what):
    print(f"ok {what}", flush=True)


def accessible(page, name):
    """Runs axe-core on the page; fails naming every violation."""
    page.add_script_tag(path=AXE)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"
    )
    assert not found, f"axe-core found violations on the {name} page:\n" + json.dumps(found, indent=1)
    step(f"the {name} page passes axe-core")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        # Marks when the page's live stream is open.
        context.add_init_script(
            "document.addEventListener('htmx:sseOpen', () => { window.__live = true });"
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        expect.set_options(timeout=TIMEOUT)

        # Without a session: the login form.
        page.goto(f"{BASE}/ui/")
        expect(page).to_have_url(f"{BASE}/ui/login")
        accessible(page, "login")
        page.fill("#token", TOKEN)
        page.locator("form.login button[type=submit]").click()
        expect(page).to_have_url(f"{BASE}/ui/")
        step("signed in with the token")

        # The team, names in the served HTML, filtered by role.
        team = page.locator("table.team")
        expect(team).to_contain_text("Pat Doe")
        expect(team).to_contain_text("Jordan Lee")
        row = page.locator(f"tr[id='e-{WHO}']")
        expect(row.locator(".status")).not_to_be_empty()
        accessible(page, "team")
        page.screenshot(path=os.path.join(SHOTS, "team.png"), full_page=True)
        page.select_option("#f-role", "sales_ae")
        page.locator("form.filters button[type=submit]").click()
        expect(page).to_have_url(f"{BASE}/ui/?team=&role=sales_ae")
        expect(team).to_contain_text("Pat Doe")
        step("sees the team and filters it by role")

        # The employee page: three mails waiting, each showing where it would go.
        page.goto(f"{BASE}/ui/employees/{WHO}")
        waiting = page.locator("article.approval")
        expect(waiting).to_have_count(3)
        expect(waiting.first).to_contain_text("Would go to")
        expect(waiting.first).to_contain_text("email.send")
        accessible(page, "employee")
        page.screenshot(path=os.path.join(SHOTS, "employee.png"), full_page=True)
        step("sees the three mails waiting and where each would go")

        # Approve the first: it is executed.
        first = waiting.first.get_attribute("id").removeprefix("approval-")
        waiting.first.locator("button.approve").click()
        expect(page.locator(f"#decided-{first}")).to_contain_text("approved")
        done = page.locator("table.actions tr.action.done", has_text="email.send")
        expect(done).to_have_count(1)
        step("approved a mail and saw it executed")

        # Reject the second with a reason: the employee learns it (its plan fails with
        # the reason, in the timeline).
        waiting = page.locator("article.approval")
        expect(waiting).to_have_count(2)
        second = waiting.first.get_attribute("id").removeprefix("approval-")
        waiting.first.locator("input[name=reason]").fill(REASON)
        waiting.first.locator("button.reject").click()
        expect(page.locator(f"#decided-{second}")).to_contain_text("rejected")
        expect(page.locator(f"#decided-{second}")).to_contain_text(REASON)
        timeline = page.locator("ol.timeline")
        expect(timeline).to_contain_text(f"rejected: {REASON}")
        expect(timeline).to_contain_text("learned plan:reach_out_to_lead")
        step("rejected a mail with a reason and saw it learned")

        # A decision taken elsewhere shows up without a reload.
        waiting = page.locator("article.approval")
        expect(waiting).to_have_count(1)
        third = waiting.first.get_attribute("id").removeprefix("approval-")
        page.wait_for_function("window.__live === true")
        page.evaluate("window.__same_page = true")
        print("WATCHING", flush=True)
        expect(page.locator(f"#decided-{third}")).to_contain_text("approved")
        expect(page.locator("article.approval")).to_have_count(0)
        assert page.evaluate("window.__same_page === true"), "the page was reloaded"
        step("saw a decision made through the CLI arrive without a reload")

        # Operations and the audit trail (the node's own token is an admin).
        page.goto(f"{BASE}/ui/operator")
        expect(page.locator("h1")).to_have_text("Operations")
        accessible(page, "operations")
        page.goto(f"{BASE}/ui/audit")
        expect(page.locator("table.audit")).to_contain_text("POST /ui/approvals/{id}/reject")
        accessible(page, "audit")
        step("the operations and audit pages")

        # The team view counts the two mails sent today (one approved here, one through
        # the CLI).
        page.goto(f"{BASE}/ui/")
        expect(page.locator(f"tr[id='e-{WHO}'] td.today")).to_contain_text("2 emails sent")
        step("the team view counts today's mail")

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{BASE}/ui/login")
        page.goto(f"{BASE}/ui/")
        expect(page).to_have_url(f"{BASE}/ui/login")
        step("signed out")
        browser.close()
    print("ALL PASSED", flush=True)


if __name__ == "__main__":
    main()
