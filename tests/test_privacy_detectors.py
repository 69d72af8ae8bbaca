"""The pattern detectors, validators, known-names regex and overlap rules (no presidio)."""

from __future__ import annotations

import socket
from datetime import date

import pytest

from crmassist.privacy import validators
from crmassist.privacy.addresses import address_detectors
from crmassist.privacy.detectors import (
    SCORE_KNOWN_NAME,
    SCORE_NER,
    STATIC_DETECTORS,
    person_span,
    resolve_overlaps,
)
from crmassist.privacy.entities import Detection, EntityType
from crmassist.privacy.names import clean_names, given_names, known_names_pattern


def found(text: str) -> list[tuple[str, str]]:
    """(type, text) of every accepted detection, after overlap resolution."""
    finders = (*STATIC_DETECTORS, *address_detectors())
    detections = [d for det in finders for d in det.find(text)]
    return [(d.entity_type.value, text[d.start : d.end]) for d in resolve_overlaps(detections)]


def only(text: str, entity_type: str) -> list[str]:
    return [value for kind, value in found(text) if kind == entity_type]


# --- e-mail ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("mail sarah.johnson@acmewater.com today", "sarah.johnson@acmewater.com"),
        ("邮箱lina@huadong-water.cn，谢谢", "lina@huadong-water.cn"),
        ("FROM OLIVIA.BROWN@BLUERIVER.CO.UK.", "OLIVIA.BROWN@BLUERIVER.CO.UK"),
        ("<liam.walsh@harbourview.ie>", "liam.walsh@harbourview.ie"),
        ("email=carlos+crm@aguaviva.com.br;", "carlos+crm@aguaviva.com.br"),
        ("admin@corp.internal", "admin@corp.internal"),
        ("Contact t.brenner@harborlights.example.", "t.brenner@harborlights.example"),
    ],
)
def test_email_positives(text: str, email: str) -> None:
    assert only(text, "EMAIL") == [email]


@pytest.mark.parametrize(
    "text", ["logo@2x.png", "user@localhost", "a@b", "@mention in chat", "x@y.notarealtld"]
)
def test_email_negatives(text: str) -> None:
    assert only(text, "EMAIL") == []


# --- phones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call +1 415 555 0134 after 3pm", "+1 415 555 0134"),
        ("UK: +44 20 7946 0958.", "+44 20 7946 0958"),
        ("card says +44 (0)20 7946 0321", "+44 (0)20 7946 0321"),
        ("desk +1 (312) 555-0176, night", "+1 (312) 555-0176"),
        ("电话13812345678联系", "13812345678"),
        ("手机 138-1234-5678", "138-1234-5678"),
        ("手机 +86 139 1234 5678。", "+86 139 1234 5678"),
        ("号码 0086 13912345678", "0086 13912345678"),
        ("mobile +8613812345679", "+8613812345679"),
        ("座机 010-6552 3388，分机 8012", "010-6552 3388"),
        ("杭州 0571-87021234", "0571-87021234"),
        ("座机 (010) 8888 6666 无人接听", "(010) 8888 6666"),
        ("热线 400-820-6688", "400-820-6688"),
        ("voicemail at (415) 555-0198.", "(415) 555-0198"),
        ("typed 415.555.0165 in the form", "415.555.0165"),
        ("do not call 020 7946 0123", "020 7946 0123"),
        ("call +1 415 555 0134 2 units", "+1 415 555 0134"),
        ("手机 (+86) 138 1234 5678", "(+86) 138 1234 5678"),
        ("tel +1-415-555-0134 ext. 204", "+1-415-555-0134"),
    ],
)
def test_phone_positives(text: str, phone: str) -> None:
    assert only(text, "PHONE") == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "order SO-2024-0318 for $48,500",
        "Order ids 202403150001, 202403150002",
        "批次号 10012345678",
        "serial SN13812345678",
        "order SO-13812345678",
        "PO 4500012345 approved",
        "Dial-in code 814 2297 5501#",
        "回款 ¥2,450,000，1,380 台",
        "dates 2024-03-15 and 15.03.2024, 09:00-17:30",
        "发票号码 04412345",
        "Cheque no. 004512 for USD 5,000",
        "Account 00123456 balance 45,210.88",
        "Ticket T00012, product PF-10, RO-75, E3",
    ],
)
def test_phone_negatives(text: str) -> None:
    assert only(text, "PHONE") == []


# --- Chinese resident ID -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["110105198503071230", "11010519880921103X", "33010619930411106x"]
)
def test_cn_id_valid(value: str) -> None:
    assert validators.cn_id_ok(value)
    assert only(f"身份证号 {value}，已登记", "CN_ID") == [value]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("110105198503071235", "wrong check digit"),
        ("310115199002144560", "wrong check digit"),
        ("11010519851332123X", "month 13, although the check digit fits"),
        ("110105209901011234", "born in 2099"),
        ("990105198503071231", "no province 99"),
        ("1101051985030712301", "19 digits"),
    ],
)
def test_cn_id_invalid_is_not_pii(value: str, why: str) -> None:
    assert not validators.cn_id_ok(value, today=date(2025, 1, 1)), why
    assert only(f"编号 {value} 校验失败", "CN_ID") == []


def test_cn_id_that_also_passes_luhn_stays_an_id() -> None:
    value = "510107198812012450"
    assert validators.luhn_ok(value)
    assert found(f"号码 {value}") == [("CN_ID", value)]


# --- cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
        "3782 822463 10005",
        "6011111111111117",
        "6222 0212 3456 7890 128",
    ],
)
def test_card_positives(card: str) -> None:
    assert only(f"paid with {card}, exp 09/27", "CARD") == [card]


@pytest.mark.parametrize(
    "text",
    [
        "reference 1234 5678 1234 5678",  # fails Luhn
        "order 1000000000000007 passes Luhn, but no card scheme starts with 1",
        "流水号 4200001234202404150000",  # 22 digits
        "tracking 1Z999AA10123456784",
        "card ending 4242",
    ],
)
def test_card_negatives(text: str) -> None:
    assert only(text, "CARD") == []


def test_numbers_listed_with_a_slash() -> None:
    assert only("电话 13812345678/13912345678", "PHONE") == ["13812345678", "13912345678"]


def test_card_next_to_a_phone_number_is_still_found() -> None:
    text = "13812345678 4111 1111 1111 1111"
    assert found(text) == [("PHONE", "13812345678"), ("CARD", "4111 1111 1111 1111")]


# --- IBAN -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
    ],
)
def test_iban_positives(iban: str) -> None:
    assert only(f"IBAN {iban}（账户）, thanks", "IBAN") == [iban]


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 31",  # check digits do not match
        "DE89 3704 0044 0532 0130",  # too short for DE
        "ZZ12 3456 7890 1234 56",  # no such country
    ],
)
def test_iban_negatives(text: str) -> None:
    assert only(text, "IBAN") == []


# --- IP ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ip"),
    [
        ("gateway at 10.24.8.17; retry", "10.24.8.17"),
        ("设备 IP 192.168.1.20，网关", "192.168.1.20"),
        ("peer 2001:db8:85a3::8a2e:370:7334 whitelisted", "2001:db8:85a3::8a2e:370:7334"),
        ("login from 203.0.113.77.", "203.0.113.77"),
    ],
)
def test_ip_positives(text: str, ip: str) -> None:
    assert only(text, "IP") == [ip]


@pytest.mark.parametrize(
    "text",
    [
        "firmware version 4.2.1.7 is installed",
        "固件版本 2.1.0.3",
        "release 2.14.0",
        "999.10.1.1",
        "meeting 10:30:00, MAC 00:1A:2B:3C:4D:5E",
        "bind to ::",
    ],
)
def test_ip_negatives(text: str) -> None:
    assert only(text, "IP") == []


# --- names from forms of address ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("the auditor, Ms. Fischer, asked", "Fischer"),
        ("Spoke with Dr. Hannah Schmidt at Northwind", "Hannah Schmidt"),
        ("新客户黄志强先生咨询", "黄志强"),
        ("郑晓梅女士来电", "郑晓梅"),
        ("欧阳娜娜小姐签收", "欧阳娜娜"),
    ],
)
def test_honorific_names(text: str, name: str) -> None:
    assert only(text, "PERSON") == [name]


@pytest.mark.parametrize(
    "text", ["王总对报价满意", "高级经理和客户经理", "李小姐签收了", "Mr. and Mrs. brown"]
)
def test_honorific_negatives(text: str) -> None:
    assert only(text, "PERSON") == []


# --- known names -------------------------------------------------------------------------


def names_in(text: str, known: list[str]) -> list[str]:
    pattern = known_names_pattern(known)
    assert pattern is not None
    return [m.group() for m in pattern.finditer(text)]


def test_known_names_prefer_the_longest() -> None:
    assert names_in("客户王伟东和王伟是父子", ["王伟", "王伟东"]) == ["王伟东", "王伟"]
    assert names_in("Mark Chen and Mark", ["Mark", "Mark Chen"]) == ["Mark Chen", "Mark"]


def test_known_names_in_unsegmented_chinese() -> None:
    assert names_in("客户Sarah Johnson来上海，由刘洋陪同", ["Sarah Johnson", "刘洋"]) == [
        "Sarah Johnson",
        "刘洋",
    ]


def test_latin_names_need_word_boundaries() -> None:
    assert names_in("Annual review with Ann; Annabel too", ["Ann"]) == ["Ann"]


def test_multi_word_names_ignore_case_and_spacing_single_words_do_not() -> None:
    known = ["Will Turner", "Grace", "Kevin O'Brien"]
    text = "WILL  TURNER came. Will the grace period hold? Grace said kevin o’brien agreed."
    assert names_in(text, known) == ["WILL  TURNER", "Grace", "kevin o’brien"]


def test_given_names_match_in_lower_case_unless_they_are_everyday_words() -> None:
    """Chat names colleagues and contacts by first name, lower case too; "grace" and
    "will" are words as often as names, so they still need the full name."""
    known = ["Marcus Reed", "Rachel Kim", "Rachel Sullivan", "Grace Liu", "Will Turner"]
    text = "ask marcus and RACHEL; will the grace period hold? marcusreed is a handle"
    assert names_in(text, known) == ["marcus", "RACHEL"]
    assert given_names(known) == {"marcus": "Marcus Reed", "rachel": None}


def test_names_are_escaped_and_junk_is_ignored() -> None:
    assert clean_names(["", "  ", "X", "李", "Ana  María López", "Ana María López", "42"]) == [
        "Ana María López"
    ]
    assert known_names_pattern(["", "X", None]) is None  # type: ignore[list-item]
    assert names_in("J. (Jr) Smith+ and J. Smith", ["J. (Jr) Smith+", "J. Smith"]) == [
        "J. (Jr) Smith+",
        "J. Smith",
    ]


def test_known_names_scale_to_a_large_crm() -> None:
    """20,000 names compile into one working pattern (its speed: benchmarks/privacy.py)."""
    known = [f"Contact{i:05d} Person{i % 97}" for i in range(20_000)] + ["王伟东"]
    pattern = known_names_pattern(known)
    assert pattern is not None
    text = "Call with Contact01234 Person70 about PF-10; 王伟东确认。 " * 10
    hits = [m.group() for m in pattern.finditer(text)]
    assert hits[:2] == ["Contact01234 Person70", "王伟东"] and len(hits) == 20


# --- NER vetting and overlaps ----------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("Kevin O'Brien's", "Kevin O'Brien"),
        ("Hi Sarah", "Sarah"),
        ("“Diego Alvarez”", "Diego Alvarez"),
        ("Ana María de la Cruz", "Ana María de la Cruz"),
        ("PF-10", None),
        ("CSAT", None),
        ("Acme Labs", None),
        ("PERSON_07aa", None),
        ("王伟", None),
        ("Friday", None),
        ("the customer", None),
    ],
)
def test_person_span_vetting(span: str, expected: str | None) -> None:
    text = f"x {span} y"
    result = person_span(text, 2, 2 + len(span))
    assert (text[result[0] : result[1]] if result else None) == expected


@pytest.mark.parametrize(
    ("text", "start", "end", "kept"),
    [
        ("Dispenser not cooling", 0, 9, False),
        ("Notes\nAgenda: filters", 6, 12, False),
        ("Called Maria about it", 7, 12, True),
        ("Maria Lopez called", 0, 11, True),
    ],
)
def test_a_lone_capitalised_word_opening_a_line_is_a_heading(
    text: str, start: int, end: int, kept: bool
) -> None:
    assert (person_span(text, start, end) is not None) is kept


def test_overlaps_prefer_score_then_length_and_spare_tokens() -> None:
    ner = Detection(EntityType.PERSON, 0, 20, SCORE_NER, "ner")
    known = Detection(EntityType.PERSON, 5, 15, SCORE_KNOWN_NAME, "known")
    short = Detection(EntityType.PERSON, 30, 34, SCORE_NER, "a")
    long = Detection(EntityType.PERSON, 30, 40, SCORE_NER, "b")
    in_token = Detection(EntityType.PERSON, 50, 55, 1.0, "c")
    assert resolve_overlaps([ner, known, short, long, in_token], [(48, 60)]) == [known, long]


def test_email_validation_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    validators._tld_extractor.cache_clear()
    assert validators.email_domain_ok("acmewater.co.uk")
    assert not validators.email_domain_ok("2x.png")


# --- numbers named by a cue word, whatever their checksum ----------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("my card 4111 1111 1111 1112 was declined", "CARD", "4111 1111 1111 1112"),
        ("Card number: 5500-0000-0000-0005", "CARD", "5500-0000-0000-0005"),
        ("银行卡6222021234567890128已挂失", "CARD", "6222021234567890128"),
        ("卡号 6228 4800 1234 5678 校验不通过", "CARD", "6228 4800 1234 5678"),
        ("His social security number is 474-49-7577", "SSN", "474-49-7577"),
        ("Here's my SSN: 474497577", "SSN", "474497577"),
        ("account 00123456 is overdrawn", "BANK_ACCOUNT", "00123456"),
        ("routing 021000021, acct 9876543210", "BANK_ACCOUNT", "021000021"),
        ("账号 6214830212345678 请核对", "BANK_ACCOUNT", "6214830212345678"),
        ("passport C03005988 expires soon", "PASSPORT", "C03005988"),
        ("护照号码E12345678", "PASSPORT", "E12345678"),
        ("My driver's license number is A1234567", "DRIVER_LICENSE", "A1234567"),
        ("身份证号 310115199002144560 校验失败", "CN_ID", "310115199002144560"),
        ("IBAN GB82 WEST 1234 5698 7654 31 fails", "IBAN", "GB82 WEST 1234 5698 7654 31"),
        ("NI number QQ 12 34 56 C", "NINO", "QQ 12 34 56 C"),
        ("She was born on November 21, 1999.", "DOB", "November 21, 1999"),
        ("DOB 03/15/1982", "DOB", "03/15/1982"),
    ],
)
def test_a_cue_word_masks_the_number_after_it(text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(text)


def test_checksum_outranks_the_cue_and_the_cue_outranks_a_chance_luhn_pass() -> None:
    assert found("card 4111 1111 1111 1111") == [("CARD", "4111 1111 1111 1111")]
    # 430901199101016755 fails the ID check but passes Luhn: "身份证" says what it is
    assert found("身份证号码是430901199101016755") == [("CN_ID", "430901199101016755")]


@pytest.mark.parametrize(
    "text",
    [
        "Order 100245 shipped on 2024-03-15: total USD 12,480.00.",
        "card ending 4421",  # four digits identify no one
        "the account team meets in room 12",
        "SSN field left blank; ticket 2024-0012",
        "passport photos: 2 copies",
        "discard 123456789 lines",  # no cue inside another word
    ],
)
def test_cues_without_a_plausible_number_mask_nothing(text: str) -> None:
    assert [k for k, _ in found(text) if k != "PHONE"] == []


# --- phones that no validator vouches for ------------------------------------------


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("stop messages to (432)733-2113", "(432)733-2113"),
        ("call 001-295-432-7332x123 today", "001-295-432-7332x123"),
        ("Mobile: +31(0)781-830109", "+31(0)781-830109"),
        ("desk 317.588.3392x04984", "317.588.3392x04984"),
        # national numbers: a trunk 0, a five-digit area code, a long last group
        ("note (933)955-2513x871 for later", "(933)955-2513x871"),
        ("note 06335 38614 for later", "06335 38614"),
        ("note (04188) 20020 for later", "(04188) 20020"),
        ("note 028 9018665 for later", "028 9018665"),
        ("note (0686)-335386 for later", "(0686)-335386"),
    ],
)
def test_phone_shapes(text: str, phone: str) -> None:
    assert only(text, "PHONE") == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "on 2024-04-02 09:00 the unit failed",
        "Reference number 1234 5678 1234 5678 is the claim",
        "PF-10 x 25, 12 480 units",
        "invoice 0012 3456789 is overdue",
        "batch 12345 678901 shipped",
    ],
)
def test_dates_references_and_amounts_are_not_phones(text: str) -> None:
    assert only(text, "PHONE") == []


# --- URLs, addresses ------------------------------------------------------------------


def test_only_urls_with_a_person_in_them_are_masked() -> None:
    assert only("see linkedin.com https://www.linkedin.com/in/jane-doe-42.", "URL") == [
        "https://www.linkedin.com/in/jane-doe-42"
    ]
    assert only("form: https://crm.example/s?email=a@b.co", "URL") != []
    assert only("My website is https://doyle.net/ and docs at https://x.org/docs", "URL") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "I live at 123 Main Street, Springfield, IL 62704",
            "123 Main Street, Springfield, IL 62704",
        ),
        ("ship to 99547 Tucker Lane Suite 105 today", "99547 Tucker Lane Suite 105"),
        ("at Tjernveien 150, PARADIS,  5232. It", "Tjernveien 150, PARADIS,  5232"),
        ("P.O. Box 255, Kangerlussuaq", "P.O. Box 255, Kangerlussuaq"),
        ("寄到西藏自治区拉萨市城关区北京中路12号吗？", "西藏自治区拉萨市城关区北京中路12号"),
        ("地址：杭州市西湖区文三路90号3单元", "杭州市西湖区文三路90号3单元"),
        # street types of other languages, before or after the name, glued or apart
        ("taxi to 8 rue des Lilas, Lyon, 69003. Thanks", "8 rue des Lilas, Lyon, 69003"),
        ("Via Roma 10, Milano, MI 20121", "Via Roma 10, Milano, MI 20121"),
        ("Brīvības iela 5, Rīga", "Brīvības iela 5, Rīga"),
        ("455 12th Avenue, Vancouver, BC V5K 0A1", "455 12th Avenue, Vancouver, BC V5K 0A1"),
        # a cue, then whatever the street is called, to the end of the address words
        ("She lives at Kirkeveien 12, Oslo", "Kirkeveien 12, Oslo"),
        ("moved to ul. Długa 5, Gdańsk last year", "ul. Długa 5, Gdańsk"),
        ("The office is at Kongens gate 4", "Kongens gate 4"),
        ("我住在杭州市西湖区文三路90号3单元，谢谢", "杭州市西湖区文三路90号3单元"),
        ("请寄到朝阳区望京SOHO塔3，谢谢", "朝阳区望京SOHO塔3"),
        # a postal block: the line before a unit line, or a line ending in one
        ("Rebecca Ross\n 12 3\n Apt. 5\n Leeds", "12 3\n Apt. 5"),
        ("Ship it to Hauptstraße 5 Suite 200\nthanks", "Hauptstraße 5 Suite 200"),
        ("ship to 12 Elm Close, Leeds", "12 Elm Close, Leeds"),
        # a three-letter state before a postcode is not a currency code
        (
            "Send it to 10 George Street, Sydney NSW 2000 please",
            "10 George Street, Sydney NSW 2000",
        ),
    ],
)
def test_addresses(text: str, address: str) -> None:
    assert only(text, "ADDRESS") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "25 units of PF-10 in stock",
        "Q2 revenue up 12%",
        "客户在路上",
        "今天去市区开会",
        "地址已更新",
        "During 2019, Acme invested heavily",
        "The meeting is at 10:30 tomorrow",
        "Please send it to Maria by Friday",
        "shipped via DHL 3 days ago",
        "Send the quote to Acme Corp 2 weeks before renewal",
        "We are at Q3 2026 targets",
        "Version 2 is at Level 3",
        "Route 66 is long",
        "Billing address: Aniela Sawicka\n",
        "Suite 5\nroom",
        "across 120 (CNY 23, USD 97) deals",
        "共11 (EUR 8, GBP 3)个商机",
        "AquaPure: PF-10 USD 45, CB-20 USD 68, RO-75 USD 240.",  # a price list
        "Call — Brightline Retail, Friday 13 November Close date slipped",  # a date, a subject
    ],
)
def test_address_negatives(text: str) -> None:
    assert only(text, "ADDRESS") == []


# --- names from the lexicon and cues -------------------------------------------------


def lexicon_names(text: str) -> list[str]:
    from crmassist.privacy.lexicon import LexiconNameDetector, name_lexicon

    return [text[d.start : d.end] for d in LexiconNameDetector(name_lexicon()).find(text)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Please ask Antonio about the quote", ["Antonio"]),
        ("we met Ana Dias and her manager", ["Ana Dias"]),
        ("the invoice went to Maclean yesterday", ["Maclean"]),
        ("My name is Terence Vassiliev", ["Terence Vassiliev"]),
        ("My name is Quarantino", ["Quarantino"]),  # unknown to the lexicon, cued
        ("the quote is for Oluwaseun Okafor", ["Oluwaseun Okafor"]),  # names-dataset only
        ("Bongani Dlamini approved it", ["Bongani Dlamini"]),
        ("please send it to Priyanka today", ["Priyanka"]),
    ],
)
def test_lexicon_and_cue_names(text: str, names: list[str]) -> None:
    assert lexicon_names(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "Will the samples arrive on Monday?",  # a name that is a common word opens a sentence
        "Grant access to the portal",
        "Smith Holdings Ltd signed",  # an organisation
        "Filters shipped in May",
        "SUPPORT TEAM",
        "The order ships from Austria to Cyprus",  # names in names-dataset, places here
        "We will call the New Zealand office",
    ],
)
def test_lexicon_negatives(text: str) -> None:
    assert lexicon_names(text) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("过几个月再跟进曹利。", ["曹利"]),
        ("联系人张丹丹，电话见附件", ["张丹丹"]),
        ("王伟先生来电", ["王伟"]),
        ("张丹丹\n\n海南省海口市", ["张丹丹"]),
        ("请核对金额和单价", []),
        ("客户很满意", []),
    ],
)
def test_chinese_names_by_cue(text: str, names: list[str]) -> None:
    from crmassist.privacy.lexicon import ChineseNameDetector

    assert [text[d.start : d.end] for d in ChineseNameDetector().find(text)] == names


def test_names_dataset_lexicon_extends_fakers_without_common_words_or_countries() -> None:
    from crmassist.privacy.lexicon import faker_lexicon, name_lexicon

    wide, faker = name_lexicon(), faker_lexicon()
    assert faker.first < wide.first and faker.last < wide.last
    assert not faker.knows("Oluwaseun") and wide.knows("Oluwaseun")
    assert not any(wide.knows(w) for w in ("the", "will", "Austria", "Canada"))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("刘洋已经确认了订单", ["刘洋"]),  # no cue, no title: jieba tags it nr
        ("下午和陈晓明通电话，他说价格可以", ["陈晓明"]),
        ("廖秀英 湖南省长沙市", ["廖秀英"]),  # a lone surname joined to the given name
        ("请把滤芯寄到浙江省杭州市西湖区文三路", []),
        ("这款净水器的滤芯需要定期更换", []),
        ("Ana Dias called", []),
    ],
)
def test_chinese_names_by_jieba_tags(text: str, names: list[str]) -> None:
    from crmassist.privacy.lexicon import JiebaNameDetector

    assert [text[d.start : d.end] for d in JiebaNameDetector().find(text)] == names


@pytest.mark.parametrize("text", ["call on 2026-11-24", "mobile 76,000.00 EUR", "phone 12.05.2026"])
def test_a_cue_word_does_not_claim_a_date_or_an_amount(text: str) -> None:
    assert only(text, "PHONE") == []


def test_a_cue_word_still_claims_an_ssn_shaped_like_a_date() -> None:
    assert only("His social security number is 474-49-7577", "SSN") == ["474-49-7577"]
