"""The web interface in a real browser: purchase to reviews, a dispute resolved by a moderator,
the operator's trust & safety view; screenshots of each main page go to test-artifacts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from web_site import DemoSite, shoot

pytestmark = pytest.mark.browser


def signed_in(browser: Any, site: DemoSite, role: str, **context: Any) -> Any:
    """A page in a fresh browser context, signed in with the demo login button of ``role``."""
    page = browser.new_context(**context).new_page()
    page.goto(f"{site.url}/signin")
    page.get_by_role("button", name=f"Demo login: {role}").click()
    page.wait_for_load_state()
    assert site.login(role).handle in page.locator("header").inner_text()
    return page


def verified_reviews(page: Any) -> int:
    figure = page.locator(".trust dl.figures div", has_text="Verified reviews").locator("dd")
    return int(figure.first.inner_text())


def first_listing_of(page: Any, site: DemoSite, seller_id: str) -> str:
    page.goto(f"{site.url}/sellers/{seller_id}")
    link = page.locator("section.card ul.plain a").first
    href = link.get_attribute("href")
    assert href is not None
    return f"{site.url}{href}"


def buy(page: Any, listing_url: str, quantity: int) -> str:
    page.goto(listing_url)
    page.get_by_label("Quantity").fill(str(quantity))
    # htmx refreshes the quote as the quantity changes.
    page.wait_for_function(
        "q => document.querySelector('#quote caption') && "
        "document.querySelector('#quote tbody th').textContent.includes('× ' + q)",
        arg=str(quantity),
    )
    page.get_by_role("button", name="Buy with escrow").click()
    page.wait_for_url(re.compile(r"/orders/ord_"))
    assert "funded" in page.locator("h1").inner_text()
    return str(page.url.split("?")[0])


def test_a_buyer_buys_the_seller_ships_both_review_and_the_trust_card_changes(
    browser: Any, demo_site: DemoSite
) -> None:
    site = demo_site
    seller = site.login("seller")
    buyer_page = signed_in(browser, site, "buyer")
    shoot(buyer_page, "01-listings")
    listing = first_listing_of(buyer_page, site, seller.account_id)
    buyer_page.goto(listing)
    before = verified_reviews(buyer_page)
    shoot(buyer_page, "02-listing-with-trust-card")
    order = buy(buyer_page, listing, 2)
    timeline = buyer_page.locator(".timeline").inner_text()
    assert "Funded" in timeline and "demo-buyer" in timeline
    shoot(buyer_page, "03-order-funded")

    seller_page = signed_in(browser, site, "seller")
    seller_page.goto(order)
    seller_page.get_by_label("Tracking number (optional)").fill("TRACK-123")
    seller_page.get_by_role("button", name="Mark as shipped").click()
    assert "shipped" in seller_page.locator("h1").inner_text()

    buyer_page.goto(order)
    buyer_page.get_by_role("button", name="Confirm receipt").click()
    assert "completed" in buyer_page.locator("h1").inner_text()
    timeline = buyer_page.locator(".timeline").inner_text()
    assert "Funded" in timeline and "Shipped" in timeline and "Released to the seller" in timeline
    assert "the buyer confirmed receipt" in timeline
    buyer_page.get_by_role("group", name="Overall").get_by_label("4★").check()
    buyer_page.get_by_label("Review text").fill("Solid teapot, browser-tested.")
    buyer_page.get_by_role("button", name="Submit review").click()
    assert "stays hidden" in buyer_page.locator(".notice").inner_text()
    assert "hidden until reveal" in buyer_page.locator(".review").inner_text()

    seller_page.goto(order)
    seller_page.get_by_label("Review text").fill("Paid promptly, lovely buyer.")
    seller_page.get_by_role("button", name="Submit review").click()
    assert "published" in seller_page.locator(".notice").inner_text()
    reviews = seller_page.locator(".review").all_inner_texts()
    assert len(reviews) == 2 and all("revealed" in r for r in reviews)
    assert any("browser-tested" in r for r in reviews)
    assert any("lovely buyer" in r for r in reviews)
    shoot(seller_page, "04-order-completed-reviews-revealed")

    buyer_page.goto(listing)
    assert verified_reviews(buyer_page) == before + 1
    assert "browser-tested" in buyer_page.locator(".reviews").inner_text()
    buyer_page.goto(f"{site.url}/sellers/{seller.account_id}")
    assert "browser-tested" in buyer_page.locator(".reviews").inner_text()
    shoot(buyer_page, "05-seller-profile")
    seller_page.goto(f"{site.url}/sellers/{seller.account_id}")
    mine = seller_page.locator(".review", has_text="browser-tested")
    mine.get_by_role("textbox").fill("Thank you, enjoy the tea!")
    mine.get_by_role("button", name="Reply").click()
    assert "Reply published" in seller_page.locator(".notice").inner_text()
    replied = seller_page.locator(".review", has_text="browser-tested").inner_text()
    assert "Seller's reply: Thank you, enjoy the tea!" in replied
    buyer_page.goto(f"{site.url}/orders")
    shoot(buyer_page, "06-orders")
    seller_page.goto(f"{site.url}/threads")
    seller_page.locator("ul.threads a").first.click()
    assert "Read by" in seller_page.locator(".conversation").inner_text()
    shoot(seller_page, "12-conversation")


def test_a_dispute_is_resolved_by_a_moderator(browser: Any, demo_site: DemoSite) -> None:
    site = demo_site
    seller = site.login("seller")
    buyer_page = signed_in(browser, site, "buyer")
    order = buy(buyer_page, first_listing_of(buyer_page, site, seller.account_id), 1)
    total = buyer_page.locator(".quote td").first.inner_text()
    buyer_page.get_by_label(re.compile("open a dispute")).fill("The lid is cracked.")
    buyer_page.get_by_role("button", name="Open a dispute").click()
    assert "disputed" in buyer_page.locator("h1").inner_text()

    moderator = signed_in(browser, site, "moderator")
    moderator.goto(f"{site.url}/disputes")
    shoot(moderator, "07-dispute-queue")
    moderator.get_by_role("row", name=re.compile("The lid is cracked")).get_by_role("link").click()
    assert total in moderator.locator("main").inner_text()
    moderator.get_by_label(re.compile("Refund to the buyer")).fill("5.00")
    shoot(moderator, "08-dispute-resolve-form")
    moderator.get_by_role("button", name="Resolve the dispute").click()
    assert "moderator decision" in moderator.locator("main").inner_text()
    assert "€5.00 refunded" in moderator.locator("main").inner_text()

    buyer_page.goto(order)
    assert "resolved" in buyer_page.locator("h1").inner_text()
    money = buyer_page.locator("table.quote").first.inner_text()
    assert "Refunded to the buyer\t€5.00" in money or "€5.00" in money
    assert "resolved by a moderator" in buyer_page.locator(".timeline").inner_text()
    shoot(buyer_page, "09-order-resolved")


def test_the_operator_sees_the_self_boosting_seller_flagged(
    browser: Any, demo_site: DemoSite
) -> None:
    site = demo_site
    (booster,) = site.result.cast["sock_master"]
    operator = signed_in(browser, site, "operator")
    operator.goto(f"{site.url}/trust")
    assert "Verified" in operator.locator("main").inner_text()
    row = operator.locator("table.flagged tr", has_text=booster)
    assert row.count() == 1
    assert re.search(r"fingerprint|suspicious ratings", row.inner_text())
    assert operator.locator(".cluster svg").count() >= 1
    shoot(operator, "10-trust-and-safety")


def test_pages_read_without_javascript_and_fit_a_phone(
    browser: Any, demo_site: DemoSite
) -> None:
    site = demo_site
    seller = site.login("seller")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                                  is_mobile=True)
    page = context.new_page()
    page.goto(f"{site.url}/signin")
    assert page.get_by_role("button", name="Demo login: buyer").count() == 1
    shoot(page, "00-signin-phone")
    listing = first_listing_of(page, site, seller.account_id)
    page.goto(listing)
    assert "Trust card" in page.locator("main").inner_text()
    assert page.locator("svg.histogram").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    shoot(page, "11-listing-phone-no-js")
    context.close()


def test_a_seller_refunds_before_shipping_and_the_hold_returns_to_the_buyer(
    browser: Any, demo_site: DemoSite
) -> None:
    site = demo_site
    seller = site.login("seller")
    buyer_page = signed_in(browser, site, "buyer")
    wallet_before = buyer_page.locator(".wallet").first.inner_text()
    order = buy(buyer_page, first_listing_of(buyer_page, site, seller.account_id), 1)
    assert buyer_page.locator(".wallet").first.inner_text() != wallet_before
    seller_page = signed_in(browser, site, "seller")
    seller_page.goto(order)
    seller_page.get_by_role("button", name="Refund the buyer in full").click()
    assert "cancelled" in seller_page.locator("h1").inner_text()
    assert "Refunded: hold voided" in seller_page.locator(".timeline").inner_text()
    buyer_page.goto(order)
    assert buyer_page.locator(".wallet").first.inner_text() == wallet_before
