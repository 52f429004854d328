"""Declarative word lists and phrase patterns for the abuse (Appendix 1) and offensive (4.1(a)/(d))
detectors.

WARNING: this file quotes slurs, sexual terms and threats. That is its job: a detector cannot find
words it does not know. Everything here is data; the matcher at the bottom is a few lines.

All patterns run on the *folded* text from ``detectors.normalise`` (lower case, look-alike letters,
leetspeak and spaced-out words already undone), so they are written in plain lower case.
Why lexicons as well as a model: the linear model is trained on tweets and forum posts that hold
few threats and few sexual comments, so it misses exactly the comments Appendix 1 says may need
the police. Threat patterns need a person as the object ("kill you", not "killing it").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from detectors.prefilter import Prefilter


def _whitespace_tolerant(pattern: str) -> str:
    """A space in a pattern means any run of whitespace ("kill  them", a line break)."""
    return pattern.replace(" ?", r"\s*").replace(" ", r"\s+")


def words_pattern(words: Iterable[str]) -> str:
    """``\\b(?:w1|w2|...)\\b`` for a word list; multi-word entries keep their spaces (``re.escape``
    would turn "piece of shit" into "piece\\ of\\ shit", which the whitespace rule cannot read)."""
    return r"\b(?:" + "|".join(re.escape(w).replace("\\ ", " ") for w in words) + r")\b"


# Objects that make a violent verb a threat against a person rather than a figure of speech
# ("kill you", not "killing it"; "punch him", not "punch the air").
_PERSON = (
    r"(?:you|u|ya|yourself|urself|him|her|them|'?em|the head(?:teacher)?|the teachers?|"
    r"that teacher|this teacher|mr \w+|mrs \w+|miss \w+|ms \w+|dr \w+|that (?:bitch|cow|prick|twat|"
    r"cunt|bastard|woman|man|kid|child|boy|girl)|your (?:kids?|son|daughter|family|wife|husband))"
)
# "beat", "hit" and "kick" are left out: "we'll beat them on Saturday", "hit you up".
_VIOLENT = (
    r"(?:kill|murder|stab|shoot|strangle|choke|lynch|behead|butcher|slaughter|knife|batter|"
    r"glass|smack|slap|punch|thump|hurt|burn|drown|rape|gas|exterminate|execute|torture)"
)

THREAT_PATTERNS: tuple[str, ...] = (
    # direct intent: "I'll kill you", "gonna batter him", "we will find you"
    rf"\b(?:i'?ll|i will|i'?m (?:going to|gonna)|im (?:going to|gonna)|i am (?:going to|gonna)|"
    rf"gonna|going to|we'?ll|we will|i'?d|i would|i'?m coming to|i want to|i wanna|"
    rf"let'?s|someone (?:should|needs to|ought to)|somebody (?:should|needs to))"
    rf"(?: \w+){{0,3}}? {_VIOLENT}\w* {_PERSON}\b(?! (?:a|an|some|over|back|across|down|through|a message|an email)\b)",
    rf"\b{_VIOLENT}(?:s|es)? {_PERSON} (?:to death|in the face|dead|slowly)\b",
    rf"\b(?:beat|batter|kick|smash) (?:the (?:shit|crap|hell|living daylights) out of |seven bells out of ){_PERSON}\b",
    rf"\b(?:beat|batter|kick|smash|punch) {_PERSON} (?:up|senseless|unconscious)\b",
    rf"\bknock {_PERSON} (?:out cold|senseless|unconscious|spark out)\b",
    r"\b(?:kill|murder|stab|shoot|strangle|behead|lynch|rape|gas) (?:you|u|him|her|them|'?em|yourself|urself|all|every)\b(?! (?:a|an|some|over|back|across|down|through)\b)",
    r"\bkys\b",
    # harm wished on someone ("should be shot"), or promised to a person ("you'll get hurt"); "someone
    # will get hurt in that car park" is a safety warning, not a threat
    r"\b(?:should|needs? to|ought to|deserves? to|wants? to|must|(?:you|u|he|she|they|ya)(?:'ll| will)) "
    r"(?:all )?(?:be |get )"
    r"(?:killed|shot|stabbed|hanged|hung|lynched|beheaded|gassed|burn(?:ed|t)|raped|murdered|"
    r"strangled|executed|exterminated|beaten|battered|punched|slapped|kicked|put down|wiped out|"
    r"hit|hurt|tortured|drowned)\b",
    r"\b(?:hope|wish|pray) (?:you|u|he|she|they|the \w+|that \w+|mr \w+|mrs \w+|miss \w+|ms \w+)"
    r"(?: \w+){0,2} (?:dies?|gets? (?:killed|hurt|shot|stabbed|raped|cancer|run over)|"
    r"(?:is|are) (?:killed|hurt|shot|stabbed|raped))\b",
    r"\b(?:go|just) die\b|\bdrop dead\b|\bshould (?:just )?die\b|\bdeserves? to die\b",
    r"\bwatch (?:your|ur|yer) back\b",
    r"\b(?:i|we) know where (?:you|u|he|she|they) (?:live|lives|work|works|park)\b",
    r"\b(?:i'?ll|i will|we'?ll|we will|gonna) (?:find|get|come for|sort|deal with) (?:you|u|him|her|them)\b",
    r"\b(?:i'?m|we'?re|im) coming for (?:you|u|him|her|them)\b",
    r"\b(?:you'?re|your|ur|you are|he'?s|she'?s|they'?re) (?:a )?dead (?:man|woman|meat)?\b",
    r"\b(?:you|u|he|she|they)(?:'ll| will) (?:regret|pay for) (?:this|it|that)\b",
    r"\byour days are numbered\b|\bdead (?:man|woman) walking\b",
    # "see you after school" is how a club reminder ends: only a promise to get someone there counts
    r"\b(?:i'?ll|i will|we'?ll|we will|gonna|going to|i'?m going to) get (?:you|u|him|her|them) "
    r"(?:outside|after school|at the gates?|in the car park)\b",
    r"\b(?:put|stick) (?:a )?(?:bullet|knife|blade) (?:in|through)\b",
    r"\b(?:break|smash|cave|kick|punch) (?:your|ur|his|her|their) (?:\w+ )?(?:face|head|legs?|neck|jaw|teeth|skull)\b",
    r"\b(?:burn|blow up|bomb|torch|shoot up) (?:the|this|that|your) (?:school|building|place|house)\b",
    r"\b(?:slit|cut) (?:your|ur|his|her|their) (?:throat|wrists?)\b",
    r"\b(?:beat|batter|slap|punch|hit|smack|choke) (?:her|him|women|girls|a woman|a girl|that bitch)\b",
    r"\b(?:put|be put) to death\b|\b(?:go|goes|going) (?:to )?(?:get )?killed\b|\bget dead\b|\bkill (?:them|'?em) all\b",
    r"\b(?:wish|wishing|hope|hoping)(?: \w+)?(?: a)? (?:slow|painful|horrible) death\b|\bslow death to\b",
    r"\b(?:should(?:a|'?ve| have)?|just|i'?d|we should) let (?:him|her|them|you|u) (?:die|drown|burn|rot)\b",
    r"\b(?:kill|murder|stab|strangle|choke|lynch|behead|slap|punch|smack|whip|torture|castrate|drown|"
    r"execute|rape|shoot) (?:her|him)\b",
    r"\b(?:hang|string) (?:her|him|them) (?:high|up by)\b|\bswinging from a rope\b|\bhangman'?s noose\b",
    r"\b(?:cut|slit) (?:her|his|their|your|ur) (?:\w+ )?(?:throat|head off)\b",
    r"\b(?:set|light) (?:her|him|them|you|u) (?:\w+ )?on fire\b|\bset on fire\b",
    r"\b(?:throw|push|chuck) (?:her|him|them|you) (?:under a (?:bus|train)|off (?:a|the) (?:cliff|roof|bridge)|out (?:of )?(?:the|a) window)\b",
    r"\b(?:needs?|deserves?|wants?) (?:a )?(?:good |proper )?(?:slap|slapping|beating|kicking|punch|smack|hiding|bullet|"
    r"capital punishment|the death penalty|to hang|to be hanged|to swing|to be put down)\b",
    r"\b(?:give|gave|giving) (?:her|him|them|you|u) (?:a )?(?:few |good |proper )?(?:slaps?|beating|kicking|smack|punch|hiding)\b",
    r"\b(?:should|must|will|needs? to|ought to) (?:hang|swing|burn|die|be destroyed|be eliminated|be removed from this earth)\b",
    r"\b(?:taken|take (?:her|him|them)) out and shot\b|\bput (?:her|him|them) down\b|\bdeath to (?:all|the|every|those|these)\b",
    r"\b(?:ethnic cleansing|genocide of|gas chambers?|concentration camps? for|final solution|must be annihilated|"
    r"be exterminated|wipe them (?:all )?out|nuke (?:them|china|russia|iran|israel))\b",
    r"\b(?:start|go|keep) (?:killing|shooting|stabbing|hanging|burning) \w+",
    r"\b(?:i'?ll|i will|i'?d|i would|gonna|going to) (?:\w+ )?(?:cut|smash|slap|whip|strangle|choke|shove)\b",
    # intimidation without a violent verb: the menace is in the promise ("you'll get what's coming")
    r"\b(?:you'?ll|you will|u'?ll|he'?ll|she'?ll|they'?ll) (?:get|have) what'?s coming\b|\bwhat'?s coming to (?:you|u|him|her)\b",
    r"\b(?:i'?ll|i will|we'?ll|we will|gonna|going to) make (?:you|u|him|her|them) (?:pay|suffer|sorry|regret)\b",
    r"\b(?:i'?ll|i will|we'?ll|we will|gonna|going to) make (?:your|ur|his|her|their) life (?:a )?(?:hell|misery|a living hell)\b",
    r"\b(?:you|u|he|she|they) (?:won'?t|will not|wont) (?:see it coming|know what hit (?:you|u|him|her|them)|live to)\b",
    r"\b(?:find|found|finding) out where (?:you|u|he|she|they) (?:live|lives|work|works)\b",
    r"\b(?:you|u|ya|he|she|they)(?:'?d| had)? (?:better|best) (?:watch (?:yourself|urself)|sleep with one eye open|keep (?:your|ur) (?:kids?|doors?) (?:safe|locked))\b",
    r"\bwould be a shame if (?:something|anything) (?:happened|were to happen)\b",
    r"\b(?:end|ruin|finish) (?:you|u|him|her)(?: off)?\b(?= (?:i|we|mate|pal|swear|soon|tonight|tomorrow)\b|[.!]|$)",
    # harm wished or deserved: "deserves to be attacked", "should be hanged", "hope they die"
    r"\b(?:deserved?|deserves) (?:to be |to get |an? |the )?(?:attack(?:ed)?|beat(?:en|ing)|kill(?:ed)?|shot|stabbed|hanged|hung|"
    r"lynched|raped|punched|slapped|bullet|noose|rope|firing squad|electric chair|gallows|ducking stool|death)\b",
    r"\b(?:needs?|should get|should be given) (?:the )?(?:noose|rope|firing squad|electric chair|gallows|ducking stool|a bullet)\b",
    r"\b(?:hope|wish|pray) (?:you|u|he|she|they|it) (?:\w+ ){0,2}?(?:rots?|burns? in hell|suffers?|chokes?|dies? (?:slowly|painfully|alone))\b",
    r"\b(?:kill|hang|shoot|drown|gas) (?:yo)?urself\b|\b(?:go|just) (?:and )?(?:kill|hang) (?:yo)?urself\b",
    # British threats a school hears: "do you in", "head kicked in", "wait till I get my hands on you"
    r"\b(?:do|doing) (?:you|u|him|her|them|'?em) in\b(?! (?:the|a|an|your|my|this|that|time|class|year|person)\b)",
    r"\b(?:head|face|teeth) (?:kicked|smashed|punched|caved|knocked|bashed) in\b",
    r"\b(?:kick|smash|punch|cave|knock|bash) (?:your|ur|his|her|their) (?:\w+ )?(?:head|face|teeth) in\b",
    r"\bwait (?:till|until|til) i (?:get|lay) (?:my hands on|hold of|a hold of) (?:you|u|him|her|them)\b",
    r"\b(?:you'?ll|you will|u'?ll|u will|he'?ll|she'?ll|they'?ll) be sorry\b(?= ?(?:[.!]|$))",
    r"\b(?:you|u|ya|he|she|they)(?:'?d| had)? (?:better|best) watch (?:out|it)\b(?!,? (?:you|u) (?:better|best) not cry)"
    r"(?= ?(?:[.!,]|$)| (?:mr|mrs|miss|ms|sir|mate|pal|i'?m|cos|because)\b)",  # not "watch out for the roadworks"
    r"\b(?:i'?ll|i will|we'?ll|we will|gonna|going to|someone (?:needs|ought|has) to|somebody (?:needs|ought|has) to) "
    r"teach (?:you|u|him|her|them|that \w+|the \w+|mr \w+|mrs \w+|miss \w+|ms \w+) a lesson\b(?! (?:on|about|in|of|for)\b)",
    r"\b(?:i|we) know (?:where|what|which) (?:car |house |school |road |street )?(?:you|u|he|she|they|your (?:kids?|children|son|daughter|family|wife|husband)) "
    r"(?:live|lives|work|works|park|parks|drive|drives|go|goes|walk|walks|sleep|sleeps)\b",
    r"\b(?:hope|wish|pray) (?:your|ur|his|her|their) (?:house|home|car|family|kids?) (?:\w+ )?(?:burns?|gets? (?:burned|burnt|torched|smashed|hurt))\b",
    r"\b(?:hope|wish|pray) (?:someone|somebody|some1) (?:\w+ )?" + _VIOLENT + r"\w* (?:you|u|him|her|them)\b",
    r"\bwhen i'?m (?:done|finished|through) with (?:you|u|him|her)\b",
    r"\b(?:slash|slashing|let down|key|keying|torch|torching) (?:your|ur|his|her|their) (?:tyres|tires|car|windscreen|windows?)\b",
    r"\b(?:i'?ll|i will|i'?d|i would|gonna|going to|i'?m going to|im going to) (?:knock|spark) (?:you|u|him|her|them) "
    r"(?:out|spark out|into next week)\b",
    r"\b(?:bring|bringing|brought|carry|carrying) (?:a |my |me |the )?(?:knife|knives|gun|blade|machete|weapon) (?:to|into|in|tomorrow|on monday)\b",
    r"\bthere(?:'?ll| will) be blood\b|\bend (?:your|ur|his|her) (?:\w+ )?life\b",
    # killing a people by nationality or faith ("killing koreans is good"); "slaughter" is left out,
    # it is how football reports talk
    r"\b(?:kill|killing|murder|murdering|shoot|shooting|gas|gassing|bomb|bombing|nuke|nuking|exterminate|"
    r"exterminating|behead|beheading|lynch|lynching) (?:all |the |those |these |more )?(?:koreans|japanese|"
    r"chinese|americans|russians|ukrainians|germans|italians|spaniards|albanians|turks|kurds|iranians|iraqis|"
    r"afghans|syrians|somalis|nigerians|ghanaians|jamaicans|bangladeshis|israelis|palestinians|brazilians|"
    r"europeans|christians|hindus|sikhs|buddhists|atheists|catholics|protestants|white people|black people)\b",
    # glee at violence, and objects thrown at people
    r"\b(?:love|loved|enjoy|enjoyed|like|liked) (?:watching|seeing) (?:\w+ ){0,4}?(?:get|getting|being|be) "
    r"(?:killed|beaten|hurt|shot|stabbed|raped|burned|burnt|hanged|lynched|tortured)\b",
    r"\b(?:throw|throwing|threw|chuck|chucking) (?:stones|rocks|bricks|acid|bottles) (?:at|to|on)\b",
    r"\b(?:give|gave|giving) (?:her|him|them|you|u) (?:a )?(?:\w+ ){0,3}?(?:slaps|smacks|punches|kicks)\b",
    # violence done to a woman or a group: the commonest threat in the sexism and hate data
    r"\b(?:slap|punch|smack|kill|hang|shoot|burn|rape|choke|strangle|drown|stab|tortur|execut|whip|castrat|"
    r"lynch|behead|exterminat|beat the|throw acid)\w* (?:\w+ ){0,2}?(?:her|women|girls|bitch(?:es)?|muslims|"
    r"jews|gays|immigrants|refugees|blacks|them all|all of them)\b",
)

SEXUAL_PATTERNS: tuple[str, ...] = (
    r"\b(?:rape|raped|raping|rapist)\b",
    r"\b(?:tits|titties|boobs|boobies|nipples?|pussy|pussies|cock|cocks|dick|dicks|penis|vagina|"
    r"clit|cum|cumming|jizz|semen|blowjobs?|handjobs?|anal|orgasm|erection|boner|horny|"
    r"nudes?|naked|porn|porno|pornstar|milf|dilf|fuckable|shagging|shag|bang(?:ing)? her|"
    r"sexy|sext|sexting|masturbat\w*|wank(?:ing)?|orgy|threesome|dildo|vibrator)\b",
    r"\b(?:suck|lick|ride|sit on|grab|touch|feel up|finger) (?:my|his|her|your|ur) "
    r"(?:dick|cock|balls|tits|boobs|pussy|face|ass|arse|bum)\b",
    r"\b(?:have|had|having|want|wanna) sex\b|\bsex with\b",
    r"\bin bed with\b(?! (?:the |a |an |bad )?(?:flu|cold|covid|temperature|fever|bug|virus|sickness|tonsillitis|"
    r"migraine|chickenpox|chicken pox|bad back|stomach bug|sickness bug|norovirus|illness|a book)\b)",
    r"\b(?:fuck|fuk|shag|bang|smash|do) (?:her|him|me|you|u|that \w+|the \w+ teacher) (?:so )?(?:hard|all night|senseless|raw)\b",
    r"\b(?:i'?d|i would) (?:fuck|shag|bang|smash|tap) (?:her|him|that|them|the \w+|mrs \w+|miss \w+|ms \w+)\b",
    r"\b(?:hot|sexy|fit|fine) (?:teacher|mum|mom|milf|mrs \w+|miss \w+|ms \w+)\b",
    r"\b(?:nice|great|lovely|big|huge|fit|sexy|perky|show (?:us|me) (?:your|ur)|flash(?:ing)? (?:your|ur|her)) "
    r"(?:tits|titties|boobs|boobies|nipples|arse|ass|bum|knockers|jugs)\b",
    r"\b(?:send|show) (?:me )?(?:nudes|pics of your|your body)\b",
)

SEXIST_PATTERNS: tuple[str, ...] = (
    r"\b(?:slut|sluts|slutty|whore|whores|skank|skanks|hoe|hoes|thot|thots|bimbo|feminazis?|"
    r"gold ?digger|femoid|foids?|roastie|roasties|cum ?dumpster|breeder)\b",
    r"\b(?:women|woman|girls|females|wives|she) (?:should|belong|need to|must) (?:\w+ ){0,2}"
    r"(?:kitchen|home|sandwich|shut up|be quiet|obey|submit|stay at home|know (?:their|her) place|be seen)\b",
    r"\b(?:get|go) back (?:in|to) (?:the|your) kitchen\b|\bmake me a sandwich\b",
    r"\b(?:women|woman|females|girls) (?:are|r) (?:all |just )?(?:stupid|dumb|useless|inferior|"
    r"worthless|whores|sluts|property|objects|weak|emotional|hysterical|irrational|incapable)\b",
    r"\btypical (?:woman|women|female|bird)\b|\bwomen can'?t\b|\bno woman should\b",
    r"\b(?:stupid|dumb|silly|fat|ugly|old|lazy|useless|thick) (?:cow|bitch|slag|tart|bint|hag|witch|old bag)\b",
    r"\b(?:slag|slags|bint|hag)\b",
    # "tart" alone is mostly pastry ("jam tart", "pop tart"): only when said of a woman
    r"\b(?:you|u|you'?re a|she'?s a|shes a|what a|such a|little|cheap|common|old|stupid) tarts?\b",
)

# Identity-based slurs and dehumanising phrases. Kept as a list so the data is reviewable.
HATE_SLURS: tuple[str, ...] = (
    "nigger", "niggers", "nigguh", "negro", "negroes", "jigaboo", "sambo", "golliwog",
    "wog", "wogs", "paki", "pakis", "gooks", "kike", "kikes", "yid", "yids",
    "spic", "spics", "wetback", "wetbacks", "beaner", "beaners", "raghead", "ragheads", "towelhead",
    "towelheads", "sand nigger", "camel jockey", "muzzie", "muzzies", "kaffir", "gypo", "gypos", "gyppo",
    "gyppos", "gippo", "gippos", "pikey", "pikeys", "faggot", "faggots", "dyke", "dykes", "tranny",
    "trannies", "shemale", "poofter", "poof", "batty boy", "retard", "retards", "retarded",
    "spastic", "spaz", "spacker", "mongoloid", "midget", "halfcaste",
    "half caste", "redskin", "injun", "zipperhead", "white trash",
)  # fmt: skip
_GROUP = (
    r"(?:muslims?|moslems?|islam|jews?|jewish people|blacks?|black people|whites?|asians?|arabs?|"
    r"africans?|mexicans?|indians?|pakistanis?|chinese|romanians?|poles|polish people|gypsies|"
    r"travellers|immigrants?|migrants?|refugees?|asylum seekers?|foreigners|gays?|lesbians?|"
    r"homosexuals?|trans people|transgender people|trannies|queers?|disabled people|women|feminists)"
)
HATE_PATTERNS: tuple[str, ...] = (
    words_pattern(HATE_SLURS),
    # Slurs that are also everyday British words ("nipping out for a fag", "on a bender", "chinks in
    # their armour", "Mong Kok"): only when said of a person.
    r"\b(?:you|u|ur|you'?re a|youre a|he'?s a|hes a|she'?s a|such a|little|fucking|stupid|dirty|bloody|filthy) "
    r"(?:fags?|benders?)\b|\b(?:fags?|benders?) like (?:you|u|him|her|them)\b",
    r"\bchinks?\b(?! in (?:the|their|his|her|its|our|your|my) armou?r)",
    r"\bmongs?\b(?! kok\b)",
    rf"\b{_GROUP} (?:are|r|is) (?!not |never |no )(?:all |just |nothing but |a bunch of |such )?(?:\w+ )?"
    r"(?:scum|vermin|animals|rats|parasites|filth|cockroaches|savages|subhuman|disease|cancer|"
    r"terrorists|criminals|rapists|pedos|paedos|inferior|disgusting|evil|a plague|trash|garbage)\b",
    rf"\b(?:kill|deport|gas|ban|hang|shoot|exterminate|get rid of|wipe out|eradicate) (?:all )?(?:the |these |those )?{_GROUP}\b",
    r"\bgo back to (?:your|ur|where) (?:own )?(?:country|you came from|africa|pakistan|india|poland|the jungle)\b",
    r"\b(?:dirty|filthy|stinking|bloody|fucking|typical) (?:jew|muslim|arab|gypsy|immigrant|foreigner|pole|mexican|indian|paki|gay|homo|queer|lesbian)s?\b",
    r"\bheil hitler\b|\bwhite power\b|\bsieg heil\b|\b1488\b|\bgas the\b|\bhitler was right\b",
)

# Strong personal insults: enough on their own when aimed at someone.
INSULT_WORDS: tuple[str, ...] = (
    "idiot", "idiots", "idiotic", "moron", "morons", "moronic", "imbecile", "cretin", "halfwit",
    "dimwit", "nitwit", "dipshit", "dumbass", "dumbfuck", "dickhead", "dickheads", "dick head",
    "knobhead", "knob head", "bellend", "bell end", "twat", "twats", "prick", "pricks", "wanker",
    "wankers", "tosser", "tossers", "cunt", "cunts", "bastard", "bastards", "arsehole", "arseholes",
    "asshole", "assholes", "shithead", "scumbag", "scumbags", "scum", "piece of shit",
    "waste of space", "waste of oxygen", "waste of skin", "loser", "losers", "pillock", "plonker",
    "numpty", "muppet", "nonce", "nonces", "paedo", "paedos", "pedo", "pedophile", "paedophile",
    "pervert", "perv", "creep", "weirdo", "freak", "psycho", "ugly", "fatso", "fat pig", "pig",
    "stupid", "dumb", "thick", "clueless", "useless", "incompetent", "pathetic", "disgrace",
    "disgusting", "vile", "bitch", "bitches", "douche", "douchebag", "jackass", "clown", "fool",
    "liar", "lying", "dickless", "gobshite", "bitchass", "sleazebag", "slimeball", "snake",
    "coward", "cowards", "traitor", "traitors", "ignorant", "delusional", "deluded", "hypocrite", "hypocrites",
    "fraud", "corrupt", "brainless", "spineless", "gutless", "nasty", "evil", "vermin", "trash",
)  # fmt: skip
# The weak words in INSULT_WORDS: parents use them in fair complaints ("useless at replying"),
# so they only count alongside a target and a model score, never alone.
WEAK_INSULTS: frozenset[str] = frozenset(
    {"stupid", "dumb", "thick", "clueless", "useless", "incompetent", "pathetic", "disgrace",
     "disgusting", "vile", "clown", "fool", "liar", "lying", "snake", "ugly", "pig", "creep",
     "freak", "weirdo", "psycho", "loser", "losers", "scum", "coward", "cowards", "traitor", "traitors", "ignorant", "delusional", "deluded",
     "hypocrite", "hypocrites", "fraud", "corrupt", "brainless", "spineless", "gutless", "nasty", "evil",
     "vermin", "trash"}
)  # fmt: skip
INSULT_PATTERNS: tuple[str, ...] = (
    words_pattern(INSULT_WORDS),
    r"\b(?:fuck|f\*ck|screw|sod) (?:you|u|off|him|her|them|the school|this school)\b",
    r"\b(?:shut (?:the fuck |tf )?up|stfu|gtfo|get fucked|go to hell|eat shit|suck it)\b",
    r"\b(?:can'?t|cannot|couldn'?t) (?:even )?(?:teach|spell|read|manage|run a school)\b",
    r"\bshould (?:be|get) (?:sacked|fired|struck off|locked up|ashamed)\b",
)

# Violent words: not abuse on their own ("the heat is killing me"), but in a comment already found
# abusive they make it a threat, so Appendix 1's police step is not missed.
VIOLENCE_PATTERNS: tuple[str, ...] = (
    # sports and slang readings left out: "dead easy", "nice shot", "choked in the final", "beaten 3-0"
    r"\b(?:kill|kills|murder\w*|stab|stabbed|stabbing|shoot|hang|hanged|lynch\w*|rape\w*|punch|punched|"
    r"slap\w*|smack\w*|batter|battered|bullets?|knife|knives|bomb|bombed|execute|executed|strangl\w*|"
    r"beat (?:up|the shit)|torture\w*|gassed|exterminat\w*|slaughter\w*|behead\w*)\b",
)
# A group named in a comment already found abusive makes the abuse an identity attack.
IDENTITY_PATTERNS: tuple[str, ...] = (
    r"\b(?:muslims|moslems|islam|jews|jewish|blacks|black people|arabs|africans|mexicans|pakistanis|"
    r"romanians|gypsies|travellers|immigrants?|illegals|migrants?|refugees?|asylum seekers?|foreigners|"
    r"gays|lesbians|homosexuals?|trans people|transgender|queers?|disabled people|islamists?|muzzies)\b",
)
PROFANITY_WORDS: tuple[str, ...] = (
    "fuck", "fucks", "fucked", "fucking", "fuckin", "fuckers", "fucker", "motherfucker",
    "motherfuckers", "mf", "wtf", "shit", "shits", "shitty", "bullshit", "crap", "crappy", "piss",
    "pissed", "bollocks", "arse", "ass", "damn", "goddamn", "bloody hell", "nigga", "niggas",
    "bitch", "bitches", "hoe", "hoes", "pussy", "dick", "cock", "twat", "cunt", "wank", "sod",
    "feck", "effing", "frigging",
)  # fmt: skip
# Mild words that only ever make a LOW finding.
MILD_PROFANITY: frozenset[str] = frozenset(
    {"crap", "crappy", "damn", "bloody hell", "piss", "sod", "arse", "ass", "frigging", "effing", "feck"}
)
# Words with an innocent reading ("Dick Whittington", "pussy cat", "a garden hoe"): the model decides.
AMBIGUOUS_PROFANITY: frozenset[str] = frozenset({"dick", "cock", "pussy", "hoe", "hoes", "ass", "mf", "sod"})
PROFANITY_PATTERNS: tuple[str, ...] = (
    words_pattern(PROFANITY_WORDS),
    r"\bf[*#%]+c?k\w*|\bsh[*#%]+t\w*|\bc[*#%]+nt\w*",  # starred-out swearing the folding leaves alone
)

# --- targets: who the comment is about ---

STAFF_TITLE_RE = r"\b(?:mr|mrs|miss|ms|mx|dr|sir|madam|mister|missus)\.? (?P<surname>[a-z][a-z'\-]+)"
STAFF_ROLE_PATTERNS: tuple[str, ...] = (
    r"\b(?:the |that |this |your |our |his |her |their |my |a )?(?:head ?teachers?|head ?masters?|"
    r"head ?mistress(?:es)?|head of (?:school|year)|deputy head|deputy|principal|senco|"
    r"(?:class |form |pe |music |maths |supply )?teachers?|teaching assistants?|tas?|"
    r"dinner ladies|dinner lady|lollipop (?:man|lady)|receptionist|office staff|staff|governors?|"
    r"caretaker|senior leadership|slt|management)\b",
    r"\bthe head\b|\b(?:that|this|the) head\b",
)
SCHOOL_PATTERNS: tuple[str, ...] = (r"\b(?:the|this|that|your|our|their|my|his|her) (?:school|academy|nursery)\b",)
PUPIL_PARENT_PATTERNS: tuple[str, ...] = (
    r"\b(?:your|ur|her|his|their|that|this|those|these|the|some|other) (?:kids?|child|children|son|"
    r"daughter|boy|girl|lads?|pupils?|students?|brats?|parents?|mums?|mum|mom|dad|dads|mother|"
    r"father|family|families|husband|wife|partner)\b",
    r"\byear (?:[1-9]|1[0-3]|r|reception)\b|\breception (?:class|kids)\b",
)
SECOND_PERSON_RE = r"\b(?:you|u|ya|yer|your|ur|you'?re|youre)\b"

# --- 4.1(d) disrepute signals in the school's own posts ---

ALCOHOL_PATTERNS: tuple[str, ...] = (
    r"\b(?:lager|wines|prosecco|champagne|vodka|whisky|whiskey|rum|tequila|"
    r"booze|boozy|alcohol|alcoholic|drunk|drunken|tipsy|hungover|hangover|pub crawl|"
    r"bottomless brunch|wine o'?clock|pimm'?s|cider|sambuca|jagerbombs?|pints? of|on (?:a|another) bender)\b",
    # not the tuck shop's wine gums and ginger beer, a fruit cocktail pudding or Hogarth's Gin Lane
    r"(?<!ginger[ ])(?<!root[ ])\bbeers?\b(?! street)|\bwine\b(?! gums?)|\bgin\b(?! lane)"
    r"|(?<!fruit[ ])\bcocktails?\b",
)
GAMBLING_PATTERNS: tuple[str, ...] = (
    r"\b(?:bet365|betfair|paddy ?power|william hill|ladbrokes|sky bet|casino|casinos|poker|roulette|"
    r"slot machines?|slots|bookies|bookmaker|betting|gambling|gamble|accumulator|acca|odds of \d|"
    r"place (?:a|your) bets?|scratchcards?|online bingo)\b",
)
POLITICAL_PATTERNS: tuple[str, ...] = (
    r"\bvote (?:for )?(?:labour|conservative|tory|tories|reform|lib ?dems?|liberal democrats?|green|"
    r"greens|snp|plaid|ukip|the \w+ party)\b",
    r"\b(?:#?vote\w*|support|elect|back) (?:our |your )?(?:local )?(?:labour|conservative|tory|reform uk|"
    r"lib dem|green party|snp|plaid cymru) (?:candidate|party|mp|councillor)\b",
    r"\b(?:labour|the conservatives|the tories|tories|reform uk|the lib dems|the greens|the government|"
    r"keir starmer|starmer|sunak|farage|badenoch|the prime minister) (?:are|is|has|have) "
    r"(?:destroying|ruining|useless|a disgrace|killing|failing|lying|liars|corrupt|evil)\b",
    r"#(?:votelabour|voteconservative|votetory|votereform|votegreen|torieout|toriesout|ge20\d\d)\b",
    r"\b(?:sign (?:our|the) petition against|join (?:our|the) (?:protest|march|strike) against)\b",
)
MOCKING_PATTERNS: tuple[str, ...] = (
    r"\b(?:some|certain|the|our|these|those|lazy|useless|clueless|stupid|thick|rude|entitled|"
    r"ignorant|annoying|pushy|helicopter) (?:parents|mums|dads|pupils|kids|children|students|class|"
    r"families)\b (?:who |that )?(?:can'?t|cannot|still can'?t|never|clearly can'?t|are (?:too )?"
    r"(?:lazy|thick|stupid|clueless|useless|idiots|a nightmare|the worst|hopeless|embarrassing))\b",
    r"\b(?:lazy|useless|clueless|stupid|thick|rude|entitled|idiot|moron|feral|annoying|hopeless|"
    r"embarrassing|pathetic) (?:parents|mums|dads|pupils|kids|children|students|families)\b",
    r"\b(?:worst|laziest|thickest|dumbest|naughtiest|most embarrassing) (?:class|year group|pupils|"
    r"kids|children|parents|students) (?:ever|we have|in the school)\b",
    r"\b(?:lol|lmao|haha+|ha ha)\b.{0,40}\b(?:pupils?|kids?|child|parents?|mums?|dads?|year \d)\b",
    r"\b(?:pupils?|kids?|child|parents?|mums?|dads?|year \d)\b.{0,40}\b(?:lol|lmao|haha+|ha ha)\b",
    r"\b(?:can'?t even|couldn'?t even|too thick to|too stupid to|too lazy to) (?:read|spell|count|"
    r"follow|park|understand)\b",
)
DEFAMATORY_PATTERNS: tuple[str, ...] = (
    r"\b(?:is|was|are|'s) (?:a |an )?(?:known |convicted |proven )?(?:thief|fraud|fraudster|"
    r"criminal|crook|paedophile|paedo|pedo|nonce|drug dealer|drunk|alcoholic|abuser|child abuser|"
    r"liar|cheat|bully|racist)\b",
    r"\b(?:stole|steals|stealing|embezzl\w+|fiddl\w+ the books|on drugs|had an affair|sleeping with)\b",
)


@dataclass(frozen=True)
class Hit:
    """A pattern match in the folded text: which list, where, and the words matched."""

    kind: str
    start: int
    end: int
    words: str


class PatternSet:
    """Named groups of compiled patterns; ``find`` returns every hit, in text order.

    Most comments match nothing, and a text that does match only a few of the patterns, so one
    pass of RE2's automaton over all of them (lookarounds left out: it may say yes too often,
    never too rarely) picks the patterns worth running with Python's ``re``, which has the final
    word. Five times faster than trying each pattern, and it stays linear on hostile input.
    """

    def __init__(self, groups: dict[str, Iterable[str]]) -> None:
        self._patterns = [(kind, re.compile(_whitespace_tolerant(p))) for kind, ps in groups.items() for p in ps]
        self._prefilter = Prefilter([p.pattern for _, p in self._patterns])

    def find(self, folded: str) -> list[Hit]:
        return self._hits(folded, self._prefilter.candidates(folded))

    def find_slowly(self, folded: str) -> list[Hit]:
        """Every pattern tried in turn: the reference ``find`` is tested against."""
        return self._hits(folded, range(len(self._patterns)))

    def _hits(self, folded: str, indices: Iterable[int]) -> list[Hit]:
        hits = [
            Hit(kind, m.start(), m.end(), m.group(0))
            for kind, pattern in (self._patterns[i] for i in indices)
            for m in pattern.finditer(folded)
            if m.end() > m.start()
        ]
        hits.sort(key=lambda h: (h.start, h.end))
        return hits


ABUSE_PATTERNS = PatternSet(
    {
        "threat": THREAT_PATTERNS,
        "sexual": SEXUAL_PATTERNS,
        "sexist": SEXIST_PATTERNS,
        "hate": HATE_PATTERNS,
        "insult": INSULT_PATTERNS,
        "profanity": PROFANITY_PATTERNS,
        "violence": VIOLENCE_PATTERNS,
        "identity": IDENTITY_PATTERNS,
    }
)
TARGET_PATTERNS = PatternSet(
    {
        "staff_title": (STAFF_TITLE_RE,),
        "staff_role": STAFF_ROLE_PATTERNS,
        "school": SCHOOL_PATTERNS,
        "pupil_parent": PUPIL_PARENT_PATTERNS,
        "addressee": (SECOND_PERSON_RE,),
    }
)
DISREPUTE_PATTERNS = PatternSet(
    {
        "alcohol": ALCOHOL_PATTERNS,
        "gambling": GAMBLING_PATTERNS,
        "political": POLITICAL_PATTERNS,
        "mocking": MOCKING_PATTERNS,
        "defamatory": DEFAMATORY_PATTERNS,
    }
)
