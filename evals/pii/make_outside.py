"""Build the outside PII evaluation set `evals/pii/outside.jsonl` (seeded, reproducible).

Nothing here comes from crmassist's own generators, sample data or redactor tests:

- English: Microsoft presidio-evaluator 0.3.2's public sentence templates
  (`data_generator/raw_data/templates.txt`, MIT) filled the way its
  `PresidioSentenceFaker` fills them. Person names, e-mails and street addresses come
  from the package's `FakeNameGenerator.com_3000.csv` (3,000 public fake persons of 30
  name sets: Czech, Danish, Japanese, ...), never from Faker, because the redactor's name
  lexicon is built from Faker. Cards, IBANs, phones, IPs, SSNs and dates of birth come
  from Faker in several locales; one card in five has its check digit broken and half the
  SSNs lose their dashes (the redactor must mask a cued number whatever its checksum).
  Organisations come from the package's `companies_and_organizations.csv`.
- Chinese: a seeded random sample of 45 of those templates (plus the two SSN ones), translated to Chinese
  (`ZH_TEMPLATES`, placeholders kept, no cue words added), filled with Faker zh_CN names,
  mobiles, addresses, resident IDs (`ssn`) and UnionPay-style bank cards.

Each template goes to `dev` (30 %) or `test` (70 %) by a seeded hash of its id: the
redactor may be tuned on dev only; tests assert and the docs report on test.

    pip download --no-deps presidio-evaluator==0.3.2 -d /tmp/pe
    python evals/pii/make_outside.py --wheel /tmp/pe/presidio_evaluator-0.3.2-py3-none-any.whl
"""

# ruff: noqa: E501  (the translated templates are kept one per line)
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import yaml
from faker import Faker

OUT = Path(__file__).with_name("outside.jsonl")
RAW = "presidio_evaluator/data_generator/raw_data/"
SEED = 20261201
EN_SAMPLES = 2000
ZH_SAMPLES = 600
DEV_SHARE = 0.3
EN_LOCALES = ["en_US", "en_GB", "en_IE", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR"]
PERSON = {
    "person", "name", "name_male", "name_female", "first_name", "first_name_male",
    "first_name_female", "first_name_nonbinary", "last_name", "last_name_male",
    "last_name_female",
}  # fmt: skip
LABELS = {
    "credit_card_number": "CARD", "iban": "IBAN", "phone_number": "PHONE", "email": "EMAIL",
    "ip_address": "IP", "ssn": "SSN", "us_driver_license": "DRIVER_LICENSE",
    "date_of_birth": "DOB", "address": "ADDRESS",
}  # fmt: skip
_PLACEHOLDER = re.compile(r"{{(\w+)}}")

# Templates 1, 4, 5, ... of templates.txt (0-based line numbers), drawn with
# random.Random(10).sample(…, 45) over the templates whose placeholders can be filled in
# Chinese, plus its two SSN templates (88, 89) so the Chinese part holds resident IDs.
ZH_TEMPLATES: dict[int, str] = {
    1: "我的信用卡{{credit_card_number}}丢了，能帮我冻结吗。",
    4: "关于我孩子的账户，我们需要把{{person}}加为监护人",
    5: "从{{iban}}转账到其他银行账户要收手续费吗",
    9: "需要查看卡{{credit_card_number}}最近10笔交易",
    25: "能否把上个月的对账单发邮件给我，我的信用卡号是{{credit_card_number}}？",
    28: "信用卡对账单上我的名字有误，能否改成{{name_male}}先生？",
    30: "卡号{{credit_card_number}}丢了，能把新卡寄到{{address}}吗？我在{{city}}出差",
    39: "能把对账单寄到{{address}}吗？",
    44: "我不想再在{{phone_number}}上收到消息了",
    46: "音乐会结束后我在{{address}}等你。",
    48: "账户上的名字不对，请改成{{person}}",
    50: "我要添加地址，分别是：{{address}}和{{address}}",
    51: "请把我的投资组合发到这个邮箱{{email}}",
    53: "我想把{{person}}添加为我账户的受益人",
    56: "卡{{credit_card_number}}的额度是多少？",
    62: "您说您的邮箱是{{email}}，对吗？",
    63: "我以前住在{{address}}，现在住在{{address}}",
    65: "请从我的信用卡扣款，卡号是{{credit_card_number}}",
    70: "怎么联系您？可以打{{phone_number}}",
    71: "我希望寄到{{address}}",
    75: "{{first_name}}你好，我用这个IBAN {{iban}}电汇时遇到了问题",
    77: "有时候大家叫我{{first_name}}",
    78: "可能登记在{{person}}名下",
    85: "{{organization}}的{{person}}是主讲嘉宾",
    86: "{{first_name}}来自{{organization}}",
    88: "他的身份证号码是{{ssn}}",
    89: "这是我的身份证号：{{ssn}}",
    91: "{{first_name}}非常可靠，你总可以信赖他。",
    99: "和{{last_name}}的小说不同，它不是关于恋尸癖的。它到底讲什么，我想谁也说不准。一首出色的巴洛克流行乐。",
    103: "致敬{{person}}——可惜她并不买账。",
    104: "他们不唱霍比特人、邪恶的猫和星际旅行的时候，就唱{{person}}《警世故事》里的诗句。还有比早期的{{last_name}}更能体现不羁创造力的例子吗？",
    113: "{{person}}为{{organization}}录制的版本成为第一张销量过百万的古典音乐家名人唱片。这首歌获得了史上第七张金唱片。",
    114: "在{{country}}，有公司歌曲，是工薪族唱的表达员工忠诚的音乐。不幸的是，正如RR的常客评论者{{person}}所指出的，“大多数都很难听”。",
    116: "{{organization}}的词曲作者{{name_female}}在她写给{{organization}}的辞职信第一段用了公司黑话",
    120: "{{organization}}是我们三位创始人的心血结晶：{{last_name}}、{{last_name}}和{{last_name}}。这个想法诞生于（海滩上）他们为另一个创业项目搭建网站的时候。",
    137: "{{name}}住在{{address}}",
    140: "您的地址是？是{{address}}",
    143: "{{person}}\n\n{{address}}\n{{phone_number}}（办公室），{{phone_number}}（传真）",
    145: "我们的办公室位于{{address}}",
    146: "如有问题请退回{{address}}。",
    147: "{{organization}}\n\n{{address}}",
    152: "说好的，这是{{first_name}}的地址：\n\n{{address}}",
    153: ">{{name}}\n>{{organization}}\n>{{person}}\n>{{address}}",
    154: "??? {{name}}\n??? {{organization}}\n??? {{address}}",
    170: "过几个月再跟进{{name}}。",
    199: "动作冒险、动画、喜剧、亲子、悬疑\n导演：{{name}}",
    200: "{{first_name}}：真是个好妻子。\n{{first_name}}：还记得我吗，{{first_name}}？我杀你兄弟的时候就是这么说话的！\n{{first_name}}：你救了我的命！我该怎么报答你？",
}


def split_of(lang: str, template_id: int) -> str:
    digest = hashlib.sha256(f"{SEED}:{lang}:{template_id}".encode()).digest()
    return "dev" if digest[0] / 256 < DEV_SHARE else "test"


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


class Source:
    """Values for each placeholder, drawn from the public persons file and Faker."""

    def __init__(self, wheel: Path, rng: random.Random) -> None:
        with zipfile.ZipFile(wheel) as zf:
            read = lambda name: zf.read(RAW + name).decode("utf-8-sig", "replace")  # noqa: E731
            self.templates = [line.strip() for line in read("templates.txt").splitlines()]
            self.people = list(csv.DictReader(io.StringIO(read("FakeNameGenerator.com_3000.csv"))))
            orgs = csv.DictReader(io.StringIO(read("companies_and_organizations.csv")))
            self.orgs = [row["organization"] for row in orgs]
            self.nations = list(csv.DictReader(io.StringIO(read("nationalities.csv"))))
            formats = yaml.safe_load(read("us_driver_license_format.yaml"))
            states = formats["en"]["faker"]["driving_license"]["usa"]
            self.licences = [f for fs in states.values() for f in fs]
        self.rng = rng
        self.fakers = {loc: Faker(loc) for loc in [*EN_LOCALES, "zh_CN"]}
        for i, fake in enumerate(self.fakers.values()):
            fake.seed_instance(SEED + i)

    def fake(self) -> Faker:
        return self.fakers[self.rng.choice(EN_LOCALES)]

    def person(self) -> dict[str, str]:
        return self.rng.choice(self.people)

    def card(self) -> str:
        number = self.fake().credit_card_number()
        if self.rng.random() < 0.2:  # a wrong check digit: still a card after "my card"
            number = number[:-1] + str((int(number[-1]) + 1 + self.rng.randrange(8)) % 10)
        return self._group(number) if self.rng.random() < 0.4 else number

    def _group(self, digits: str) -> str:
        sep = self.rng.choice([" ", "-"])
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))

    def en_value(self, key: str) -> tuple[str, str | None]:
        """(text, label or None) for one English placeholder."""
        p = self.person()
        fake = self.fake()
        simple: dict[str, Callable[[], str]] = {
            "credit_card_number": self.card,
            "iban": fake.iban,
            "phone_number": fake.phone_number,
            "email": lambda: p["EmailAddress"],
            "ip_address": lambda: fake.ipv4() if self.rng.random() < 0.8 else fake.ipv6(),
            "ssn": self.ssn,
            "us_driver_license": lambda: fake.bothify(self.rng.choice(self.licences)).upper(),
            "date_of_birth": lambda: self.date_of_birth(fake),
            "address": lambda: f"{p['StreetAddress']}, {p['City']}, {p['State']} {p['ZipCode']}",
            "organization": lambda: self.rng.choice(self.orgs),
            "building_number": lambda: p["StreetAddress"].split(" ")[0],
            "street_name": lambda: " ".join(p["StreetAddress"].split(" ")[1:]) or "Main Street",
            "city": lambda: p["City"],
            "country": lambda: p["CountryFull"],
            "postcode": lambda: p["ZipCode"],
            "zipcode": lambda: p["ZipCode"],
            "state_abbr": lambda: p["State"],
        }
        if key in simple:
            return simple[key](), LABELS.get(key)
        if key in PERSON:
            return self.name(key, p), "PERSON"
        if key.startswith("prefix"):
            return p["Title"], None
        if key.startswith("nation"):
            column = {"nation_man": "man", "nation_woman": "woman", "nation_plural": "plural"}
            return self.rng.choice(self.nations)[column.get(key, "nationality")].title(), None
        if key == "age":
            return str(self.rng.randint(18, 90)), None
        return str(getattr(self.fakers["en_US"], key)()), None

    def name(self, key: str, p: dict[str, str]) -> str:
        if key.startswith("first_name"):
            return p["GivenName"]
        if key.startswith("last_name"):
            return p["Surname"]
        return f"{p['GivenName']} {p['Surname']}"

    def ssn(self) -> str:
        value = self.fakers["en_US"].ssn()
        return value.replace("-", "") if self.rng.random() < 0.5 else value

    def date_of_birth(self, fake: Faker) -> str:
        born = fake.date_of_birth(minimum_age=18, maximum_age=90)
        style = self.rng.choice(["%B %d, %Y", "%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d %B %Y"])
        return born.strftime(style)

    def zh_value(self, key: str) -> tuple[str, str | None]:
        zh = self.fakers["zh_CN"]
        if key in PERSON:
            return zh.name(), "PERSON"
        values: dict[str, Callable[[], str]] = {
            "credit_card_number": self.bank_card,
            "iban": self.fake().iban,
            "phone_number": zh.phone_number,
            "email": zh.email,
            "ssn": zh.ssn,
            "address": zh.address,
            "organization": zh.company,
            "city": zh.city,
            "country": zh.country,
        }
        return values[key](), "CN_ID" if key == "ssn" else LABELS.get(key)

    def bank_card(self) -> str:
        """A UnionPay-style debit card (62 + 14 or 17 digits + Luhn), or a Faker card."""
        if self.rng.random() < 0.3:
            return self.card()
        body = "62" + "".join(str(self.rng.randrange(10)) for _ in range(self.rng.choice([13, 16])))
        return body + luhn_digit(body)


def fill(template: str, value: Callable[[str], tuple[str, str | None]]) -> tuple[str, list]:
    """The sentence and its labelled spans; `{{building_number}} {{street_name}}` is one."""
    template = template.replace("\\n", "\n").replace("\\,", ",")
    text, spans, pos = "", [], 0
    for match in _PLACEHOLDER.finditer(template):
        text += template[pos : match.start()]
        key = match.group(1).lower()
        val, label = value(key)
        val = val.replace("\n", ", ")
        if key == "street_name" and spans and spans[-1][2] == "building_number":
            spans[-1] = (spans[-1][0], len(text) + len(val), "ADDRESS")
        elif key == "building_number":
            spans.append((len(text), len(text) + len(val), "building_number"))
        elif label:
            spans.append((len(text), len(text) + len(val), label))
        text += val
        pos = match.end()
    text += template[pos:]
    return text, [s for s in spans if s[2] != "building_number"]


def rows(source: Source) -> list[dict]:
    out = []
    rng = source.rng
    en_ids = [i for i, t in enumerate(source.templates) if _PLACEHOLDER.search(t)]
    plans = [("en", rng.choice(en_ids)) for _ in range(EN_SAMPLES)]
    plans += [("zh", rng.choice(sorted(ZH_TEMPLATES))) for _ in range(ZH_SAMPLES)]
    for n, (lang, tid) in enumerate(plans):
        template = source.templates[tid] if lang == "en" else ZH_TEMPLATES[tid]
        text, spans = fill(template, source.en_value if lang == "en" else source.zh_value)
        entities = [{"start": s, "end": e, "type": t, "text": text[s:e]} for s, e, t in spans]
        out.append(
            {
                "id": f"out-{lang}-{n:04d}",
                "lang": lang,
                "template": tid,
                "split": split_of(lang, tid),
                "known_names": [],
                "text": text,
                "entities": entities,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="presidio_evaluator 0.3.2 wheel")
    args = parser.parse_args()
    data = rows(Source(args.wheel, random.Random(SEED)))
    with OUT.open("w", encoding="utf-8") as f:
        for row in data:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(data)} texts, {sum(len(r['entities']) for r in data)} entities -> {OUT}")


if __name__ == "__main__":
    main()
