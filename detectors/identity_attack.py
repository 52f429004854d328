"""Hostility towards a group of people for who they are: "muslims are a plague", "deport the
refugees", "women are useless". Part of the Appendix 1 abuse detector's signals (hate, sexist).

Attacks on groups often use no rude word at all, so neither the swearing lexicons nor a model
trained on swearing tweets see them. The rule is structural: a group named by race, religion,
nationality, migration status, sexuality, gender identity, disability or sex, and then either a
hostile word right before it ("hate", "deport", "filthy") or a copula followed by a strongly
negative word ("are disgusting", "is a cancer"). How negative a word is comes from the VADER
sentiment lexicon (MIT, shipped inside the ``vadersentiment`` package; nothing is downloaded),
minus the words that usually describe what was done *to* a group ("refugees are killed", "women
are scared"), which is reporting, not abuse.

Runs on the folded text from ``detectors.normalise``; spans are in that text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from detectors.prefilter import Prefilter


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (easier to review than a list)."""
    return frozenset(words.split())


# Groups, by the words people use for them. Women/girls map to "sexist", the rest to "hate";
# violence against any of them is a threat.
_SEX_GROUPS = r"(?:women|woman|girls|females?|feminists?|feminism|wives)"
_OTHER_GROUPS = (
    r"(?:muslims?|moslems?|islam|islamic|islamists?|jews?|jewish people|judaism|christians?|christianity|"
    r"catholics?|catholicism|hindus?|hinduism|sikhs?|black people|blacks|white people|whites|asians?|"
    r"arabs?|africans?|mexicans?|indians|pakistanis?|chinese people|romanians?|poles|gypsies|roma|"
    r"travellers|latinos?|hispanics?|immigrants?|migrants?|refugees?|asylum seekers?|illegals|"
    r"illegal aliens?|foreigners|gays?|lesbians?|homosexuals?|homosexuality|bisexuals?|trans people|"
    r"transgenders?|transgender people|trannies|queers?|lgbt\w*|disabled people|the disabled|autistic people|"
    r"autistics|deaf people|retards?)"
)
GROUP_RE = re.compile(rf"\b(?:(?P<sex>{_SEX_GROUPS})|{_OTHER_GROUPS})\b")

# Slogans and coinages whose only use is hostility to a group.
SLOGAN_RE = re.compile(
    r"#(?:sendthemback|sendthemhome|deportthemall\w*|banislam|stopislam|noislam|refugeesnotwelcome|"
    r"rapefugees?|illegalaliens|noillegals|deportillegals|stopimmigration|killallmuslims|womensuck)\b"
    r"|\brapefugees?\b|\binvaders\b|\billegals\b"
    r"|\b(?:refugees?|migrants?|immigrants?|muslims?|islam|foreigners|illegals) (?:are )?not welcome\b"
    r"|\b(?:deport|kick|send|throw) (?:them|'?em|all of them|the lot)(?: all)? (?:out|back|home)\b|\bdeport them\b"
)

# Hostile words that attack the group named right after them ("hate muslims", "filthy jews").
HOSTILE_BEFORE = word_set(
    "hate hating hates despise despising loathe deport deporting ban banning exterminate eradicate "
    "expel filthy dirty disgusting stinking vile smelly savage inferior worthless subhuman parasitic "
    "evil fucking bloody damn stupid dumb ugly lazy"
)
# Violence against the group named right after them ("killing koreans", "gas the jews"): a threat.
VIOLENT_BEFORE = word_set(
    "kill killing kills murder murdering shoot shooting gas gassing burn burning bomb bombing nuke "
    "hang hanging lynch lynching exterminate exterminating slaughter slaughtering behead beheading "
    "execute executing torture torturing rape raping stab stabbing"
)
# Dehumanising words VADER does not list.
DEHUMANISING = word_set(
    "plague parasites parasite vermin scum invaders invasion rapefugees subhuman savages animals filth "
    "cockroaches rats inferior mentally degenerate degenerates backward barbaric barbarians primitive "
    "terrorists criminals rapists paedophiles pedophiles"
)
# Negative words that usually report what happened to a group rather than attack it.
VICTIM_WORDS = word_set(
    "illegal illegally poor victim victims killed kill kills killing dead died die dying attacked attack "
    "attacks injured suffering suffer sad afraid scared crisis war hurt hurting abused abuse raped rape "
    "murdered murder assaulted harassed harassment discrimination racism racist sexism sexist violence "
    "violent danger threat threatened fear feared lost missing sick cancer pain problem problems worried "
    "wrong angry furious grieving grief mourning upset heartbroken devastated horrified terrified frustrated "
    "outraged offended tired exhausted lonely depressed anxious distressed miserable unhappy disappointed "
    "helpless desperate struggling traumatised traumatized"
)
# Words ending in -ed after "are" usually say what was done to the group ("are exploited by employers",
# "are bullied more often"): they count only when they are insults in themselves.
INSULTING_PARTICIPLES = word_set(
    "retarded deranged demented inbred depraved twisted wicked crooked brainwashed diseased infested "
    "backwards-minded bloodthirsty"
)
COPULAS = word_set("are is r were was be being been remain")
NEGATORS = word_set("not no never isn't aren't wasn't weren't dont don't")
NEGATIVE_CUT = -2.0  # VADER valence at or below which a word is strongly negative
PREDICATE_REACH = 5  # words after the group in which "are ... <negative>" must fall

_WORD = re.compile(r"[a-z']+")
_GATE = Prefilter([SLOGAN_RE.pattern, GROUP_RE.pattern])


@dataclass(frozen=True)
class GroupAttack:
    category: str  # "hate", "sexist" or "threat"
    start: int
    end: int


@lru_cache(maxsize=1)
def negative_words() -> frozenset[str]:
    """Words VADER rates strongly negative, plus dehumanising words, minus victim words."""
    lexicon = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    negative = set(DEHUMANISING)
    for line in lexicon.splitlines():
        word, _, rest = line.partition("\t")
        valence = rest.partition("\t")[0]
        try:
            if float(valence) <= NEGATIVE_CUT:
                negative.add(word)
        except ValueError:
            continue
    return frozenset(negative - VICTIM_WORDS)


def find_group_attacks(folded: str) -> list[GroupAttack]:
    """Every attack on a group in ``folded`` (spans cover the group and the hostile word)."""
    found: list[GroupAttack] = []
    candidates = _GATE.candidates(folded)  # most comments name no group: one RE2 pass says so
    if 0 in candidates:
        for m in SLOGAN_RE.finditer(folded):
            found.append(GroupAttack("sexist" if "women" in m.group() else "hate", m.start(), m.end()))
    groups = list(GROUP_RE.finditer(folded)) if 1 in candidates else []
    if not groups:
        return found
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
    starts = [w[0] for w in words]
    negative = negative_words()
    for group in groups:
        category = "sexist" if group.group("sex") else "hate"
        first = bisect.bisect_left(starts, group.start())
        after = bisect.bisect_left(starts, group.end())
        for j in range(max(0, first - 3), first):
            if words[j][2] in VIOLENT_BEFORE:
                found.append(GroupAttack("threat", words[j][0], group.end()))
            elif words[j][2] in HOSTILE_BEFORE and j >= first - 2:
                found.append(GroupAttack(category, words[j][0], group.end()))
        seen_copula = False
        for j in range(after, min(len(words), after + PREDICATE_REACH)):
            word = words[j][2]
            if word in NEGATORS:
                break
            if word in COPULAS:
                seen_copula = True
            elif seen_copula and _is_negative(word, negative):
                found.append(GroupAttack(category, group.start(), words[j][1]))
                break
    return found


def _is_negative(word: str, negative: frozenset[str]) -> bool:
    """A strongly negative predicate; "1" folds to "i", so "p1ague" is tried as "plague" too."""
    if word not in negative and "i" in word:
        word = word.replace("i", "l") if word.replace("i", "l") in negative else word
    return word in negative and (not word.endswith("ed") or word in INSULTING_PARTICIPLES)
