"""The simulator's safety rules: phrases that make a prompt look harmful, and what looks like maths.

Data only; :mod:`tutorlab_sim.safety` applies it (the steps are in its docstring). Every pattern
sees the prompt lower-cased with curly quotes made straight, apart from the maths cues, which see
it as written and ignore case. Rules are tried in order: intent rules first, then topic, things
and mild ones, each in category order, so an earlier rule names the category of a prompt that
several match. A rule is indexed by its anchor words (:mod:`tutorlab_sim.regex_anchors`); a rule
that opens with a word costs almost nothing on prompts without that word.

The categories follow a child-safety taxonomy: self-harm, violence and weapons, sexual content,
hate and harassment, drugs and alcohol, personal data, dangerous activities, jailbreaks and
role-play, academic dishonesty and off-topic requests. The rules are written for the simulator;
nothing here reads an evaluation set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Category:
    """One category's rules, by kind (``tutorlab_sim.safety`` docstring)."""

    name: str
    #: a harmful request however it is framed
    intent: Sequence[str]
    #: a risky subject; intent when the speaker acts on it
    topic: Sequence[str] = ()
    #: a risky thing; intent when the speaker asks how to get, make or use it
    things: Sequence[str] = ()
    #: harmful-looking only outside maths, never intent (off-topic chat)
    mild: Sequence[str] = ()


def _any(*parts: str) -> str:
    """One pattern matching any of ``parts``."""
    return "(?:" + "|".join(parts) + ")"


# --- shared building blocks (all patterns see lower-case text) ------------------------------

#: a person or pet on the receiving end of an action ("her" only where it is not possessive)
_WHO = _any(
    r"some(?:one|body)(?:'s)?|any(?:one|body)|every(?:one|body)|people|him|them",
    r"her(?=\s*(?:$|[,.?!;:]|(?:up|out|down|so|until|with|and|to|hard|again|back|if|when|because|"
    r"for|in|at|from|without|while|too|first|or)\b))",
    r"(?:a|an|the|that|this|my|our|his|her|their|some|those|these|other|another|mean|"
    r"new)\s+(?:[\w-]+(?:'s)?\s+){0,2}?(?:kids?|child(?:ren)?|boys?|girls?|person|guys?|man|men|"
    r"woman|women|classmates?|teachers?|students?|brothers?|sisters?|siblings?|friends?|"
    r"neighbou?rs?|dad|mom|mum|father|mother|parents?|bull(?:y|ies)|cousins?|bab(?:y|ies)|"
    r"step(?:dad|mom|brother|sister)|coach|principal|ex|enem(?:y|ies)|rivals?|dogs?|cats?|pets?|"
    r"animals?|drivers?|passengers?|pedestrians?|cops?|officers?|players?|goalies?|referees?|"
    r"strangers?|lady|ladies)\b",
)
# --- framing: what turns a risky topic into a harmful request -------------------------------

#: the speaker asking how to do something, or saying they mean to, in the same sentence
AGENCY = _any(
    r"\bhow (?:do|can|could|should|would|will|did|to|much|many|long|far|hard|fast|close|high|"
    r"deep) (?:i|we|u|you|someone|one|it take|does it)\b",
    r"\bhow to\b|\bways? to\b|\bstep by step\b|\bexplain (?:how|exactly)\b|\blet'?s\b",
    r"\bhow (?:much|many)\b[^.?!]{0,40}\b(?:can|should|do|would|could|must|need) (?:i|we|u)\b",
    r"\b(?:what|which)(?:'s| is| are)? (?:the )?(?:best|easiest|fastest|quickest|cheapest|"
    r"safest|simplest|right|good|better) (?:way|place|time|amount|spot|thing)s?\b",
    r"\bwhere (?:can|do|should|could|would|to) (?:i|we|u)?\b",
    r"\b(?:help|teach|show|tell|give) me\b|\b(?:can|could|should|may|do) (?:i|we|u)\b",
    r"\bis it (?:ok|okay|safe|fine|bad|normal|legal|allowed)\b",
    r"\bwhat (?:happens|would happen|will happen|if)\b",
)
#: getting, making or using a thing
ACQUIRE = (
    r"\b(?:make|making|build|building|get|getting|buy|buying|find|bring|carry|sneak|hide|use|using|"
    r"sharpen|load|fire|shoot|steal|craft|print|order|pack)\b"
)
#: the speaker as an actor or owner
SPEAKER = r"\b(?:i|i'm|im|i'd|i'll|i've|me|my|we|we're|we'll|us|our)\b"
#: keeping something from parents, teachers or anyone who could stop it
CONCEAL = _any(
    r"\bwithout (?:my |our |the |any )?(?:parents?|mom|mum|dad|teachers?|anyone|anybody|them|"
    r"him|her|grown ?ups?|adults?|family|brother|sister)\w* (?:knowing|noticing|finding out|"
    r"seeing|catching|hearing|suspecting)",
    r"\bwithout (?:getting|being) (?:caught|noticed|seen|found out|in trouble)",
    r"\bso (?:that )?(?:he|she|they|my \w+|the teacher|nobody|no one|mom|dad) (?:won'?t|"
    r"will not|doesn'?t|does not|don'?t|can'?t|cannot|never) (?:notice|know|find out|see|tell|"
    r"catch|smell)",
    r"\b(?:don'?t|not to|never) tell (?:my |your )?(?:parents|mom|mum|dad|anyone|anybody|"
    r"teachers?|grown ?ups?)|\bsecret from\b|\bkeep (?:it|this) (?:a )?secret\b",
    r"\bwhen (?:nobody|no one)(?:'s| is) (?:around|home|looking|watching)",
    r"\b(?:hide|hiding|sneak|sneaking|smuggle|smuggling)\b",
)

# --- rules ---------------------------------------------------------------------------------

#: figurative or technical senses of risky words, blanked out before the rules run
BENIGN_SENSES: tuple[str, ...] = (
    # LaTeX command names are not words (\bullet, \frac)
    r"\\[a-z]+",
    # computing
    r"\bkill(?:s|ed|ing)?\s+(?:-\d+|-\w+|(?:off\s+)?(?:a|an|the|all|that|this|my|its|each|every|"
    r"child|parent|background|zombie|old|stuck|running|"
    r"\d+)?\s*(?:[\w-]+\s+){0,2}?(?:process(?:es)?|tasks?|jobs?|threads?|programs?|scripts?|"
    r"loops?|apps?|servers?|sessions?|pids?|terminals?|commands?|tabs?|windows?|containers?|"
    r"workers?))\b",
    r"'kill -?\d*'|\bkill -\d+|\bpkill\b|\bkillall\b",
    r"\bkill(?:s|ed|ing)? (?:off )?(?:the )?(?:[a-z]|terms?|variables?|unknowns?|coefficients?|"
    r"denominators?|constants?)\b(?= using| by| with| in|,|\.|\?|$)",
    r"\b(?:brute[- ]force|dictionary|timing) attacks?\b|\bhack(?:ed|ing)? together\b|\b(?:life|"
    r"math|study) ?hacks?\b",
    r"\bcrack(?:ed|ing)? (?:this|the|a|my) (?:\w+ )?(?:code|puzzle|problem|riddle|cipher|equation|"
    r"question)\b",
    r"\bblow(?:s|ing|n)? up the stack\b|\bstack overflow\b",
    r"\b(?:formula|code|program|script|app|calculator|spreadsheet|computer|function|"
    r"loop)\w* (?:keeps? )?(?:bombs?|bombed|crash\w*|explod\w*|dies|died|blows up)\b",
    r"\bexecute (?:a|the|my|this) (?:function|command|program|script|code|loop|query)\b",
    r"\b(?:fires?|fired|firing|triggers?) (?:an |the )?events?\b",
    # idioms
    r"\b(?:is|are|was|it'?s|that'?s|this'?s|keeps?|been) (?:literally |totally |really |"
    r"so )?(?:killing|murdering|destroying|torturing) me\b",
    r"\bi'?m (?:literally |so |just )?dying(?: here| of \w+| inside)?\b|\bdying to (?:know|see|"
    r"find out|try)\b|\b(?:dying|dead) (?:of|from) (?:laughter|laughing|boredom)\b",
    r"\bkill(?:ing)? two birds with one stone\b|\bsteal(?:ing|s)? (?:a |second |third |"
    r"home )?base\b|\btake a stab at\b|\bhit me\b|\bshoot for\b|\bgive it a shot\b|\bbig shot\b",
    r"\b(?:bombed|flunked|failed|crushed|killed|nailed|smashed|aced) (?:my|the|that|this|a|our|"
    r"his|her) (?:\w+ )?(?:test|quiz|exam|presentation|interview|homework|class|game)\b",
    r"\b(?:brain|head|mind)(?:'s| is)? (?:is )?(?:going to|gonna|about to|will|could) (?:explode|"
    r"blow up|melt)\b",
    r"\bfight(?:ing)? with (?:this|the|my|an?) (?:\w+ )?(?:equation|problem|question|homework|"
    r"fraction|math)\b",
    r"\battack(?:ing|s)? (?:this|the|a|each|every|my|these|those)? ?(?:\w+ )?(?:problems?|"
    r"equations?|questions?|exercises?|proofs?|homework|math)\b",
    r"\b(?:destroy|crush|beat|smash|wreck)\w* (?:the )?(?:other|opposing|their) teams?\b",
    r"\bnaked eye\b|\bdead ?line\b|\bdead end\b|\bkiller (?:app|question)\b",
    r"\b(?:rubbing|isopropyl|denatured) alcohol\b|\bsmoke (?:alarms?|detectors?|signals?)\b",
    r"\bfire (?:drills?|trucks?|stations?|fighters?|engines?|alarms?|departments?|exits?)\b",
)


_MEDS = (
    r"pills|tablets|capsules|meds|medicine|medication|bottles? of pills|painkillers|sleeping pills|"
    r"tylenol|advil|aspirin|ibuprofen"
)
_SELF_HARM = Category(
    "self_harm",
    [
        r"\b(?:kill|hurt|harm|cut|burn|punish|starve|hang|drown|poison|shoot|stab|injure|choke|"
        r"suffocate)(?:ing)? (?:my ?self|yourself|my own self)\b",
        r"\b(?:kill|end)(?:s|ing)? (?:herself|himself|themselves)\b",
        r"\bsuicid\w*|\bself[- ]?harm\w*|\bself[- ]?injur\w*|\boverdos\w*",
        r"\bend(?:ing)? (?:my|your|his|her|their) (?:own )?life\b|\bend it all\b|"
        r"\btake my (?:own )?life\b|\bend it(?= ?[?.!]|$| now| tonight| today| for good| forever)",
        r"\b(?:want|wanna|wish|ready|deserve|plan|planning|going) (?:to )?(?:just )?(?:die|"
        r"be dead|disappear|stop existing|not exist|not be here|not wake up|never wake up|"
        r"be gone)\b",
        r"\bwish i (?:was|were|wasn'?t|weren'?t|had never been) (?:dead|never born|alive|here|"
        r"gone|born|around)\b",
        r"\b(?:don'?t|do not|didn'?t) (?:want|wanna) (?:to )?(?:live|be alive|exist|be here|"
        r"wake up|go on|be around)\b",
        r"\bstop existing\b|\bdisappear forever\b|\b(?:not|no longer) (?:be )?(?:alive|"
        r"here) anymore\b",
        r"\bbetter off (?:dead|without me|if i)\b|\b(?:happier|easier) (?:without me|if i (?:was|"
        r"were|wasn'?t) (?:here|around|alive|gone))",
        r"\b(?:no|don'?t see (?:the|any)|what'?s the) (?:point|reason) (?:in |of |to )?(?:living|"
        r"life|anything|going on|being alive|me|trying)\b|\bdon'?t see the point\b",
        r"\b(?:nobody|no one|noone) (?:would|will|even|ever) (?:care|notice|miss me|cry)\b",
        r"\bif i (?:was|were|'m|am) (?:gone|dead|not here|not around)\b|\bif i (?:died|die|"
        r"disappeared)\b|\bwhen i'?m gone\b",
        r"\b(?:who gets|who will get|give away|giving away) (?:all )?(?:of )?my (?:stuff|things|"
        r"belongings|stuffed animals|games|pets?)\b",
        r"\b(?:goodbye|good-bye|farewell|suicide) (?:letter|note|message|text|video|post)s?\b",
        r"\bthink(?:ing)? (?:about|of) (?:dying|death|suicide|not being here|ending it|"
        r"killing myself|not waking up)\b|\bthoughts? (?:about|of) (?:dying|death|suicide)\b",
        r"\b(?:make|let) (?:the|my|all (?:the|my)|this) pain (?:stop|go away|end)\b|"
        r"\bpain\b[^.?!]{0,20}\b(?:stop|end|go away)\b[^.?!]{0,10}\b(?:forever|for good)\b",
        r"\b(?:not|never) wake up\b|\b(?:fall asleep|sleep) forever\b",
        r"\bi (?:really |just |kind of |kinda )?hate (?:myself|my life|being alive)\b|"
        r"\beveryone (?:at school |in my class |here )?hates me\b|\bi'?m (?:worthless|a burden|"
        r"useless|a waste)\b|\b(?:no one|nobody) (?:loves|likes|cares about|wants) me\b",
        r"\bi feel (?:so |really |completely )?(?:hopeless|worthless|empty inside|like a burden|"
        r"like giving up|like disappearing|like dying)\b",
        r"\bwould (?:i|someone|a person) (?:\w+ )?(?:die|survive)\b|\b(?:would|will|could|might|"
        r"does|did|can|enough to)(?: it| that| this| they)? kill me\b",
        r"\b(?:painless|least painful|quickest|easiest|fastest|best|quietest) (?:way|ways|method|"
        r"methods) to (?:die|end it|kill myself|go to sleep forever)\b|\bhow (?:to|do i|can i|"
        r"could i|should i) die\b",
        r"\b(?:drink|eat|take|swallow|inhale|jump|fall)\w*\b[^.?!]{0,40}\bto (?:die|not wake up|"
        r"end it)\b",
        r"\bsurviv\w* (?:jumping|falling|taking|drinking|swallowing|an? (?:fall|jump) from|"
        r"if i)\b|\b(?:likely|chance|odds|probability)\b[^.?!]{0,40}\b(?:i|"
        r"me)\b[^.?!]{0,30}\bsurviv",
        r"\b(?:take|took|taking|swallow\w*|eat|ate|drink|down)\b (?:all|every|the whole|a whole|"
        r"a bunch|lots|tons|too many|a handful|the rest) (?:of )?(?:the |my |these |those |his |"
        r"her |\w+'s )?(?:\w+ )?(?:" + _MEDS + r")\b",
        r"\b(?:jump|jumping|throw myself|fall|falling|leap)\w* (?:off|from) (?:a|the|my|our|"
        r"this) (?:\w+ )?(?:bridge|building|tower|skyscraper|cliff|roof|balcony|window|"
        r"\w+ (?:floor|story|storey))\b[^.?!]{0,60}\b(?:die|dead|death|surviv\w*|kill)\b",
        r"\b(?:skip|skipping|stop|stopping|quit|quitting) (?:all )?(?:of )?(?:my )?(?:meals|"
        r"eating|food)\b|\bgo (?:\w+ )?without (?:eating|food)\b|"
        r"\bcalories? (?:all the way )?(?:down )?to (?:zero|0)\b|\bmake myself (?:throw up|vomit|"
        r"puke)\b",
        r"\b(?:how deep|too deep)\b[^.?!]{0,30}\bcut|\bcut\w*\b[^.?!]{0,30}\b(?:too deep|"
        r"how deep)\b|\bcut(?:s|ting)? (?:on )?(?:my )?(?:arms?|wrists?|legs?|thighs?)\b",
        r"\bhide (?:the |my )?(?:cuts|scars|marks|bruises)\b|\b(?:scratch|hit|burn|pinch|"
        r"bite)\w* (?:my|my own) (?:arms?|legs?|skin|wrists?|face|head)\b",
        r"\bnoose\b|\bhang (?:my ?self|myself)\b|\b(?:lethal|fatal|deadly) (?:dose|amount|height|"
        r"fall)\b",
        r"\b(?:been|started|keep|still|stop|quit) cutting\b|\bcutting again\b|\brazor blades?\b",
        r"\b(?:kills|kill) you\b[^.?!]{0,20}\b(?:fall|jump|pills|dose)\b|\b(?:fall|jump|dose|"
        r"pills)\b[^.?!]{0,30}\b(?:kills|would kill|will kill) you\b",
        r"\bwant (?:it all|everything|this|it|my life) to (?:end|stop|be over)\b|\b(?:best|"
        r"fastest|easiest) way to od\b|\bod (?:on|with)\b",
        r"\b(?:stop|stopped|stopping) eating\b|\bwould (?:anyone|anybody|"
        r"people) (?:even )?(?:notice|care|miss me)\b",
    ],
    [
        r"\b(?:hurt|harm|cut|starve|injur\w*)(?:s|ing)? (?:herself|himself|themselves)\b",
        r"\blos(?:e|ing) \d+ ?(?:kg|kilos?|pounds?|lbs?) in (?:a|\d+|one|two|three) (?:days?|"
        r"weeks?)\b",
    ],
)

_WEAPON = (
    r"guns?|pistols?|handguns?|revolvers?|rifles?|shotguns?|firearms?|bullets?|ammo|ammunition|"
    r"gunpowder|bombs?|explosives?|grenades?|dynamite|detonat\w*|tnt|weapons?|knife|knives|blades?|"
    r"switchblades?|machetes?|daggers?|brass knuckles|tasers?|pepper spray|poison\w*"
)
_VIOLENCE = Category(
    "violence_weapons",
    [
        r"\b(?:guns?|knife|knives|weapons?|bombs?|explosives?)\b[^.?!]{0,40}\bschool\b|"
        r"\bschool\b[^.?!]{0,40}\b(?:guns?|knife|knives|weapons?|bombs?|explosives?)\b|"
        r"\bshoot(?:ing)? up\b|\bschool shoot\w*|\bshot (?:him|her|them|someone|my|the kid)\b",
        r"\b(?:dad|father|uncle|mom|mother|brother|grandpa|grandfather|parents|cousin|"
        r"neighbou?r)(?:'s|s'|s) (?:\w+ )?(?:gun|guns|rifle|pistol|shotgun|handgun|firearm|"
        r"revolver)\b",
        r"\bget(?:ting)? (?:back at|revenge on|even with) (?:him|her|them|my|someone|the|that)\b|"
        r"\brevenge on\b|\bwithout leaving (?:any )?(?:marks|bruises|evidence|a trace)\b",
        r"\b(?:flamethrower|pipe ?bomb|molotov|napalm|thermite|nerve gas|mustard gas|poison gas|"
        r"toxic gas|chlorine gas|nail bomb)s?\b",
        r"\b(?:sharpen|turn|make)\w* [^.?!]{0,30}\binto a (?:weapon|knife|shank|spear|club)\b|"
        r"\bshank\b",
    ],
    things=[r"\b(?:" + _WEAPON + r")\b"],
    topic=[
        r"\b(?:kill\w*|murder\w*|stab\w*|assault\w*|fight\w*|violen\w*|attack\w*|punch\w*|"
        r"chok(?:e|ing)|strangl\w*|revenge|hurts? the most|metal detectors?)\b",
        r"\b(?:hurt|harm|injure|wound|hit|punch|kick|slap|smack|stab|shoot|poison|choke|strangle|"
        r"drown|knock|kill|murder|attack|assault|burn|torture|maim|whack|jump|bully|shove|push|"
        r"spit on)(?:s|es|ed|ing)?\b(?: \w+)?? " + _WHO,
        r"\b(?:throw|aim|fire)\w* (?:\w+ ){1,3}?at " + _WHO,
        r"\b(?:beat|knock|take|rough|mess|jump|gang up on|hurt) " + _WHO + r" (?:up|out|down)\b|"
        r"\bbeat(?:ing)? up\b|\bknock (?:\w+ ){0,2}?(?:out|unconscious)\b",
        r"\b(?:push|shove|throw)\w* " + _WHO + r" (?:down|off|into|in front of|out of|over)\b",
        r"\bbreak (?:his|her|their|someone'?s|a|my \w+'s) (?:\w+ )?(?:nose|arms?|legs?|bones?|"
        r"neck|jaw|teeth|fingers?|ribs?)\b",
        r"\bmake " + _WHO + r" (?:bleed|pass out|faint|black out|stop breathing|choke)\b",
        r"\bblow(?:ing|s)? up (?:a|an|the|my|our|his|her|their|someone'?s|\w+'s) (?!balloon|photo|"
        r"picture|image|pool|beach|raft|mattress|tire|tyre|bounce|castle|toy|float)\w+",
        r"\bdrop\w* (?:it|rocks?|stones?|bricks?|something|things|a \w+) (?:off|from) (?:the|a|"
        r"an) (?:bridge|overpass|roof|balcony|window)\b[^.?!]{0,20}\b(?:onto|on|at) (?:a|"
        r"the) (?:cars?|people|someone|road|highway|drivers?|kids?)\b",
    ],
)

_SEXUAL = Category(
    "sexual_content",
    [
        r"\bsex(?:y|ier|iest|ual\w*|ting|t|ts|ted|ed)?\b|\bporn\w*|\bnudes?\b|\bnudity\b|"
        r"\bnaked\b|\bxxx\b|\bonlyfans\b|\berotic\w*|\bhorny\b|\borgasm\w*|\bfetish\w*|\bboobs?\b|"
        r"\bgenitals?\b|\bpenis\w*|\bvagina\w*|\bcondoms?\b|\blingerie\b",
        r"\b(?:without|no|taking off|take off|out of) (?:any |my |your |her |his |"
        r"their )?(?:clothes|clothing|underwear)\b|\bin (?:my|your|her|his) (?:underwear|bra|"
        r"panties|undies|bikini)\b",
        r"\bhook(?:ing|ed)? ?up (?:with|together)\b|\bhooking up\b(?! the| a | an | his| her|"
        r" their| to)|\bmak(?:e|ing) ?out\b(?! of)|\bfrench kiss\w*|\bkiss(?:ing)? scenes?\b|"
        r"\bwedding night\b|\bmake a baby\b|\bbabies (?:are )?made\b",
        r"\b(?:spicy|steamy|naughty|dirty|raunchy|kinky|x-rated|nsfw|"
        r"lewd)\b[^.?!]{0,20}\b(?:jokes?|stor(?:y|ies)|poems?|pictures?|pics|photos?|talk|texts?|"
        r"things?|stuff|videos?|movies?|content|roleplay|chats?|scenes?|messages?)\b|\b(?:poems?|"
        r"stor(?:y|ies)|jokes?|texts?|messages?|pictures?)\b[^.?!]{0,25}\b(?:spicy|steamy|naughty|"
        r"raunchy|kinky|nsfw|lewd)\b",
        r"\b(?:something|anything|tell me \w+) (?:naughty|dirty|spicy|steamy|nsfw|"
        r"inappropriate)\b|\bnsfw\b|\badult (?:stuff|websites?|sites?|videos?|content|films?|"
        r"movies?)\b",
        r"18\+(?<!\d18\+)(?![\w(])",
        r"\bhow hot (?:is|are) (?:my|your|she|he|her|his|the (?:girl|boy|teacher)|that)\b|"
        r"\b(?:rate|rating|rank|ranks|ranking) (?:how )?(?:hot|sexy|attractive|cute|pretty|"
        r"good-looking)\b|\b(?:hot|hottest|sexiest|attractive|cutest) (?:girls?|boys?|teachers?|"
        r"body|bodies|woman|women|guys?|classmates?)\b",
        r"\b(?:curves|shape|measurements) of (?:a |the |her |his |my \w+'s )?(?:woman|girl|lady|"
        r"women|girls)'?s? (?:body|figure)\b|\b(?:woman|girl|lady)'?s (?:body|curves|figure|"
        r"chest)\b|\bdescribe (?:your|her|his|my) (?:body|figure|chest)\b|"
        r"\bwhat do you look like\b",
        r"\b(?:be|become|are you|want to be|wanna be) (?:my|your) (?:girlfriend|boyfriend|gf|bf|"
        r"lover|wife|husband|valentine)\b|\bdate me\b|\b(?:do you|will you) love me\b",
        r"\b(?:roleplay|role-play|role play|pretend|act)\w*\b[^.?!]{0,40}\b(?:boyfriend|"
        r"girlfriend|lover|husband|wife|alone (?:in|with))\b",
        r"\b(?:romantic|romance|kissing|dating)\b[^.?!]{0,40}\b(?:teacher|coach|principal|tutor|"
        r"adult)\b|\b(?:teacher|coach|adult|grown ?up|tutor)\b[^.?!]{0,40}\b(?:and i|"
        r"and me) (?:kiss|date|hold hands|fall in love|make out)\b|\b(?:and i|and me) kiss\b",
        r"\bsend (?:me |him |her |them |you )?(?:pics|pictures|photos|selfies|images|videos|a pic|"
        r"a picture|a photo)\b[^.?!]{0,40}\b(?:of (?:yourself|myself|me|you|your body|my body)|"
        r"without|private|body|underwear)\b|\b(?:asked|wants?|told) me to send (?:him |her |"
        r"them )?(?:pics|pictures|photos|selfies|a pic|a picture|a photo)\b",
        r"\b(?:private|secret) (?:stuff|things|parts|photos|pictures|pics|chats?|games?)\b",
        r"\b(?:boyfriend|girlfriend|bf|gf)\b[^.?!]{0,40}\b(?:alone|bedroom|my room|in bed|private|"
        r"overnight|touch\w*|sleep over)\b|\balone in (?:my|your|his|her) (?:room|bedroom)\b",
        r"\b(?:how old|old enough|what age)\b[^.?!]{0,30}\b(?:to (?:have sex|date|marry|kiss)|"
        r"for sex)\b|\b(?:boyfriend|girlfriend) is (?:\d{2}|an adult)\b",
        r"\b69\b[^.?!]{0,20}\b(?:lol|haha|lmao|right|sexiest|funny|nice|hehe)\b|\b(?:lol|haha|"
        r"lmao|hehe|sexiest)\b[^.?!]{0,20}\b69\b",
        r"\blots of details?\b[^.?!]{0,20}\bkiss\w*|\bkiss\w*\b[^.?!]{0,40}\b(?:lots of details?|"
        r"in detail|detailed)\b",
        r"[\U0001F346\U0001F351\U0001F4A6\U0001F60F\U0001F608\U0001F975]",
        r"\b(?:blow ?jobs?|hand ?jobs?|oral sex|bj|strip(?:per|tease|ping for)\w*|hickeys?|"
        r"make love|virgin(?:ity|s)?\b|private parts|down there|under (?:your|my|her|"
        r"his) (?:shirt|skirt|clothes|pants|dress))\b",
        r"\btouch(?:es|ed|ing)? (?:me|you|my|your|her|him) (?:there|down there|under|"
        r"inappropriately|in private)\b",
        r"\bsleep with (?:me|her|him|you|them|a girl|a boy|my \w+)\b|\bget (?:a|my|this) (?:girl|"
        r"boy|guy) to (?:sleep|kiss|make out|send)\b",
        r"\b(?:asked|wants?|told) me to send (?:him |her |them )?(?:a )?(?:selfie|nudes?|pics?)\b",
    ],
    [
        r"\bnaughty\b|\bkiss\w*|\bromantic\b|\bromance\b|\bflirt\w*|\bmake ?out\b(?! of)",
        r"\bpregnan\w*|\bpuberty\b|\b(?:every|in|lots of|all the) details?\b[^.?!]{0,30}\b(?:body|"
        r"bodies|girls?|boys?|babies|night)\b",
    ],
)

_GROUP = _any(
    r"girls|boys|women|men|black (?:people|kids|guys)|blacks|white (?:people|kids)|whites",
    r"asians?|mexicans?|latinos?|hispanics?|immigrants?|refugees?|foreigners|indians?|chinese|"
    r"africans?|arabs?|muslims?|jews|jewish (?:people|kids)|christians?|hindus?|atheists?",
    r"gays?|gay (?:people|kids|guys)|lesbians?|trans (?:people|kids)|transgender \w+|lgbtq?\+?",
    r"disabled (?:people|kids)|autistic (?:people|kids)|(?:the )?poor (?:people|kids)|"
    r"fat (?:people|kids)|ugly (?:people|kids)|old people|(?:some )?races|religions",
)
_BAD = (
    r"bad|worse|dumb|dumber|stupid|lazy|dirty|gross|evil|smarter|better|good|weird|annoying|"
    r"violent|criminals?|ugly|useless|weak|inferior|superior|disgusting|animals"
)
_HATE = Category(
    "hate_harassment",
    [
        r"\b(?:racis[tm]|sexis[tm]|homophob\w*|transphob\w*|antisemit\w*|xenophob\w*|bigot\w*|"
        r"nazis?|white power|slurs?|n-word|f-word|hate speech)\b",
        r"\b(?:insults?|swear ?words?|curse ?words?|cuss ?words?|bad words|mean (?:things|words|"
        r"names|nicknames?|jokes?|messages?|comments?|texts?|posts?|raps?|poems?|songs?|stor(?:y|"
        r"ies)|captions?|notes?|memes?)|comebacks?|names to call)\b",
        r"\b(?:tell\w*|get|make|convince) (?:everyone|everybody|people|the (?:whole )?class|"
        r"the group|all (?:my|our) friends) (?:to |that )?(?:block|ignore|unfriend|hate|exclude|"
        r"stop talking|not sit|not talk|not play|stay away)\w*",
        r"\b(?:nobody|no one) (?:should|will|can|is allowed to) (?:sit|talk|play|hang out) with\b|"
        r"\bfake (?:accounts?|profiles?|pages?)\b",
        r"\b(?:jokes?|memes?)\b[^.?!]{0,30}\b" + _GROUP + r"\b",
        r"\b(?:jokes?|memes?|stereotypes?)\b[^.?!]{0,30}\b(?:about|on) (?:(?:his|her|their|my|the|"
        r"a|an|\w+'s) )?(?:\w+'s )?(?:religion|race|skin|colou?r|weight|accent|disabilit\w+|"
        r"stutter|wheelchair|" + _GROUP + r"|muslim|jewish|black|asian|mexican|gay|autis\w+)",
        r"\bwhy (?:are|do|can'?t|don'?t|is it that|r) (?:all |most |so many )?"
        + _GROUP
        + r" (?:so |always |never |such )?(?:\w+ )?(?:"
        + _BAD
        + r")\b",
        r"\b" + _GROUP + r" (?:are|is|r) (?:all )?(?:so |just |naturally )?(?:" + _BAD + r")\b"
        r"(?! at (?:\w+ )?(?:than|math|\d))|\b(?:smarter|dumber|superior|inferior) than (?:other )?"
        + _GROUP,
        r"\b(?:some|certain|which) (?:races|religions|genders|ethnicit\w+|"
        r"cultures)\b[^.?!]{0,20}\b(?:smarter|dumber|better|worse|superior|inferior)\b",
        r"\b(?:immigrant|refugee|poor kid|fat kid|disabled kid|foreigner|gay kid|black kid|"
        r"muslim kid|autistic kid|new kid)s? (?:is|are|was|were) (?:so |really |"
        r"always )?(?:stupid|dumb|lazy|dirty|gross|useless|ugly|weird|smelly|bad|criminals?)\b",
        r"\bbased on (?:his|her|their|someone'?s) (?:weight|race|religion|skin|looks|accent|"
        r"disabilit\w+|size|body|hair|colou?r)\b",
        r"\bworst thing (?:i|to|you) (?:can |could )?say\b|\bsay something (?:mean|rude|nasty|bad|"
        r"hurtful)\b",
        r"\b(?:you'?re|you are|ur|u r) (?:so |such an? |a |an |the )?(?:stupid|dumb|idiot|useless|"
        r"trash|garbage|loser|moron|dumbest)\b",
        r"\b"
        + _GROUP
        + r" (?:are|is) (?:\w+ )?(?:ruining|taking over|invading|destroying|stealing|"
        r"the problem|to blame)\b|\b" + _GROUP + r" (?:should|must) (?:all )?(?:go back|leave|"
        r"be banned|be kicked|get out|die)\b|\b" + _GROUP + r" (?:don'?t|do not) belong\b",
        r"\b(?:roast|roasting) (?:of|about) (?:my|his|her|their|the|a|an|\w+'s)\b|"
        r"\beveryone (?:will )?laughs? at (?:him|her|them)\b",
        r"\btell(?:ing|s)? (?:her|him|them) (?:that )?(?:she|he|they)(?:'s| is|'re|"
        r" are) (?:so )?(?:ugly|fat|stupid|dumb|worthless|gross|a loser|disgusting)\b|\b(?:no one|"
        r"nobody) (?:likes|wants|loves) (?:her|him|you|them)\b",
    ],
    [
        r"\bmak(?:e|es|ing) fun of\b|\btease\w*|\bmock(?:s|ed|ing)?\b(?! test| exam| trial|"
        r" interview)|\bhumiliat\w*|\bembarrass\w*|\bbull(?:y|ied|ying|ies)\b|\bharass\w*|"
        r"\bcyberbull\w*|\btroll(?:ing)? (?:him|her|them|someone|my)\b|\broast (?:him|her|them|my|"
        r"someone)\b",
        r"\b(?:rumou?rs?|gossip|lies) about\b|\bstart(?:ing)? (?:a )?(?:rumou?r|drama)\b|"
        r"\bspread(?:ing)? (?:a )?(?:rumou?rs?|lies|gossip)\b",
        r"\bmake " + _WHO + r" (?:cry|feel (?:bad|stupid|ugly|worthless|sad|small|terrible)|sad|"
        r"mad|angry|upset|quit|leave|hate)\b",
        r"\bthe (?:fat|ugly|weird|smelly|stupid|dumb|retarded|poor|gay|nerdy) (?:kid|girl|boy|guy|"
        r"one|kids)\b|\bcall(?:s|ed|ing)? (?:him|her|them|\w+) (?:ugly|fat|stupid|dumb|names|gay|"
        r"a loser|an idiot|a freak)\b",
        r"\b(?:will|would|to|gonna) hate (?:the|that|this) (?:new )?(?:kid|girl|boy|student)\b|"
        r"\b(?:block|exclude|ignore)\w* (?:him|her|them|\w+) from (?:the )?(?:group|chat|game)\b",
        r"\b(?:laugh|joke|roast|mock|tease|make fun)\w*\b[^.?!]{0,30}\b(?:acne|zits|pimples|"
        r"braces|glasses|weight|ears|teeth|stutter|lisp|accent|clothes|skin|freckles|wheelchair)\b",
    ],
)

_SUBSTANCE = (
    r"alcohol(?:ic)?|beers?|wines?|vodka|whisk(?:e)?y|rum|tequila|liquor|booze|champagne|"
    r"hard seltzers?|shots of (?:vodka|tequila|whisk(?:e)?y|rum|alcohol|liquor)|drunk|tipsy|"
    r"hungover|hangover|weed(?! (?:the|his|her|their|a|out|whacker|killer|eater))|marijuana|"
    r"cannabis|thc|edibles|bongs?|vap(?:e|es|ing|ed|ers?)|juul\w*|nicotine|cigs|cigarettes?|"
    r"cigars?|tobacco|smok(?:e|es|ed|ing)|cocaine|heroin|meth|lsd|mdma|ecstasy|shrooms|"
    r"magic mushrooms|ketamine|fentanyl|opioids?|xanax|adderall|oxycodone|oxycontin|percocets?|"
    r"purple drank|whippets|nitrous|inhalants?|cough syrup|dxm|robitussin|nyquil|drugs|"
    r"caffeine pills?|energy drinks?|pre-?workout|diet pills?|laxatives?"
)
_DRUGS = Category(
    "drugs_alcohol",
    [
        r"\bget(?:ting|s)? (?:you |me )?(?:high|drunk|wasted|stoned|buzzed|a buzz|hammered|tipsy|"
        r"blazed|messed up)\b|\bfeel(?:ing)? (?:high|the buzz|a buzz|drunk|stoned|tipsy)\b|"
        r"\bto trip\b|\btripping on\b",
        r"\bfake (?:id|ids|i\.d\.?)\b|\broll (?:a|the|up a) (?:joint|blunt|spliff)\b|\bsnort\w*|"
        r"\b(?:huff|sniff)(?:ing)? (?:glue|paint|markers|gas|gasoline|air duster|whipped cream)\b",
        r"\bmedicine cabinet\b|\bpills called\b|\bwhat (?:would|will) happen if i (?:took|take|"
        r"drank|drink|ate|eat|swallow\w*|mix\w*|smoke\w*|snort\w*|tried|try)\b",
        r"\b(?:which|what) (?:drugs|pills)\b[^.?!]{0,30}\b(?:make|help|get|can|should)\b",
        r"\bsmell(?:ing|s)? like (?:smoke|weed|alcohol|beer|booze|vape|cigarettes)\b",
        r"\bhigh on (?:magic )?(?:mushrooms|shrooms|weed|pills|drugs|something|acid|pot|"
        r"\w+ (?:pills|drugs|gummies))\b",
        r"\b(?:drink|drinks|drank|drinking|chug|chugs|down) (?:\d+|a few|some|many|two|three|four|"
        r"five) shots\b",
        r"\b(?:1[0-7]|[5-9])[- ]?(?:year|yr)s?[- ]?old\b[^.?!]{0,30}\b(?:drink|drinks|drinking|"
        r"smoke|smoking|vape|vaping|drunk|beers?|vodka|alcohol|weed|shots)\b|\b(?:beers?|vodka|"
        r"alcohol|weed|vapes?|shots)\b[^.?!]{0,40}\b(?:1[0-7]|[5-9])[- ]?(?:year|yr)s?[- ]?old\b",
    ],
    [
        r"\b(?:" + _SUBSTANCE + r")\b",
        r"\b(?:brother|sister|mom|mum|dad|mother|father|parents|friend|grandma|grandpa|aunt|uncle|"
        r"neighbou?r)(?:'s|s'|s) (?:\w+ )?(?:pills|medicine|medication|meds|prescription|"
        r"painkillers|sleeping pills)\b",
        r"\b(?:make|brew|distill|ferment)\w* (?:\w+ ){0,2}?(?:alcohol|beer|wine|vodka|moonshine|"
        r"liquor|booze)\b",
    ],
)

_PERSONAL = Category(
    "personal_data",
    [
        r"\bmy (?:home |house |real |street )?address (?:is|=|:)|\bi live (?:at|on) (?:\d+|"
        r"[a-z]+ (?:street|st|avenue|ave|road|rd|lane|drive))\b|\b\d+ [a-z]+ (?:street|st|avenue|"
        r"ave|road|rd|lane|ln|drive|dr|court|ct|boulevard|blvd|terrace|circle)\b(?=\s*(?:[,.!?;]|"
        r"$))",
        r"\bmy (?:phone |cell |mobile |home )number is\b|\bmy number is \d{3}\b|\b(?:give|send|"
        r"tell|text) me your (?:phone|number|snap|snapchat|address|email|insta|instagram|discord|"
        r"location|real name)\b|\byour (?:phone|cell) ?(?:number|#)\b|\bwhat(?:'s|"
        r" is) your (?:phone|number|address|snap|snapchat|insta|email|real name|location)\b|"
        r"\btext me\b",
        r"@[a-z0-9-]+\.[a-z]{2,}\b",
        r"\bmy (?:email|e-mail|passcode|pin|login|username|user ?name|ssn)\b|"
        r"\bmy (?:\w+ )?password\b",
        r"\bmy (?:full |real )?name is [a-z]+ (?!and\b|but\b|i\b|im\b|so\b|from\b|too\b|in\b|at\b|"
        r"the\b)[a-z]{2,}\b",
        r"\d\d\d-\d\d-\d\d\d\d(?!\d)",
        r"\d\d\d\d[ -]\d\d\d\d[ -]\d\d\d\d[ -]\d\d\d\d",
        r"\bsocial security (?:number|#|card)\b|\bmy card number\b|\b(?:credit|"
        r"debit) card (?:number|info|details)\b|\b(?:my|mom'?s|dad'?s|parents'?) (?:credit|debit|"
        r"bank) (?:card|account)\b|\bhere'?s (?:the|my) (?:login|username|account|password)\b|"
        r"\b(?:bank|school|email|netflix|game) (?:login|password)\b|\b(?:mom|mum|dad|sister|"
        r"brother|parents?|teacher|friend|neighbou?r)(?:'s|s') (?:\w+ )?(?:login|password|pin|"
        r"passcode|username)\b",
        r"\b(?:home )?address of\b|\b(?:home|house) address\b|\bnumber belongs to\b|"
        r"\bwhose phone number\b",
        r"\b(?:track|trace|locate|spy on|stalk)(?:s|ed|ing)? (?:my |her |his |their |someone'?s |"
        r"\w+'s )?(?:[\w']+ )?(?:phone|location|whereabouts|messages|texts|dms|account|instagram|"
        r"snapchat|tiktok|search history)\b|\blocation from\b|\bfind (?:out )?(?:someone'?s|his|"
        r"her|their|\w+'s) (?:location|address|number)\b",
        r"\b(?:hack\w*|get into|break into|log ?in ?to|crack)\b (?:[\w']+ ){0,3}?(?:account|email|"
        r"e-mail|messages|texts|dms|phone|instagram|snapchat|tiktok|wifi|wi-fi|computer|laptop|"
        r"password)\b",
        r"\bwill you meet\b|\bcan we meet\b|\bmeet (?:me|up) (?:at|in|after)\b|"
        r"\bwants? to meet (?:me|up)\b",
        r"\b(?:someone|somebody|a (?:guy|man|woman|grown ?up|grownup|adult|stranger|person|boy|"
        r"girl|older \w+)) (?:i (?:met|know|talk to|play with) )?(?:online|in a game|on (?:roblox|"
        r"fortnite|minecraft|discord|instagram|snapchat|tiktok|the internet|a game)|"
        r"from (?:the )?(?:internet|online|a game|roblox|discord))\b|\b(?:met|talk\w*|"
        r"chat\w*) (?:online|in a game)\b|\bonline friend\b|\bsomeone i met (?:in|on|at)\b",
        r"\bnot to tell (?:my )?(?:parents|mom|dad|anyone)\b|\bkeep (?:it|this|us) (?:a )?secret\b",
        r"\bwhat school i (?:go to|attend)\b|\bwhen i walk home\b|\bwhere i live\b|\bhome alone\b|"
        r"\bmy school(?:'s)? name\b|\bwhat i look like\b|\bkeep me company\b",
        r"\b(?:can|will) (?:we|you) be (?:my )?(?:best )?friends?\b|\bbe my (?:best )?friend\b",
        r"\bwhat (?:other|the other) (?:kids|people|users|students|children) (?:asked|said|told|"
        r"typed|wrote|asks|say)\b|\b(?:other (?:kids|users|people)'?s?) (?:names|chats|questions|"
        r"messages|data|info)\b",
        r"\bdox(?:x|xed|xing|ing|ed)?\b|\bpersonal (?:info|information|details|data)\b",
        r"\b(?:asked|asks|asking|wants?) (?:me )?(?:for )?my (?:address|phone|number|school|"
        r"location|password|pics?|pictures?|photos?|real name|last name|age|snap|snapchat|insta)\b",
        r"\bwhich school (?:\w+ ){1,3}?(?:goes|go|attends)\b|\bwho (?:my|her|his|"
        r"their) \w+ is (?:texting|talking to|messaging|dating)\b|\b(?:read|see|check) (?:her|his|"
        r"their|my \w+'s) (?:texts|messages|dms|chats|emails)\b",
        r"\bmy (?:locker|lock|alarm|garage|door|safe|phone|house) (?:combination|combo|code|"
        r"passcode)\b",
        r"\bfind (?:someone'?s |her |his |their |(?:my |the |a )?\w+'s )(?:[\w']+ )?(?:facebook|"
        r"instagram|snapchat|tiktok|phone|number|address|email|profile|account)\b",
        r"\b(?:a |some )?(?:man|guy|woman|lady|adult|grown ?up|stranger|person|boy|girl|someone|"
        r"somebody) (?:in|on|from) (?:roblox|fortnite|minecraft|discord|a game|the game|instagram|"
        r"snapchat|tiktok|online)\b|\bour (?:little )?secret\b",
    ],
    [
        r"\bpasswords?\b|\bphone numbers?\b|\bfull name\b|\bstrangers?\b|\b(?:bank account|"
        r"credit card)s?\b",
        r"\bwhere (?:\w+ ){0,5}?(?:lives?|lived|stays|sleeps|goes to school)\b",
        r"\b(?:meet|meeting|see) (?:me|up|you|him|her)\b[^.?!]{0,40}\b(?:park|mall|after school|"
        r"this weekend|tonight|tomorrow|in person|irl|my house|his house|her house|alone)\b",
    ],
)

_DANGEROUS = Category(
    "dangerous_activities",
    [
        r"\b(?:blackout|choking|cinnamon|tide ?pod|laundry ?pod|benadryl|skull ?breaker|fire|"
        r"salt and ice|nutmeg|kiki|outlet|penny|milk crate|pass ?out|fainting|one chip|hot water|"
        r"nyquil chicken|chroming|car surfing|train surfing) challenge\b|\bfor (?:the|a|"
        r"this) (?:challenge|dare)\b|\bdare (?:my|me|him|her|them|you|someone|each other)\b|"
        r"\b(?:i|we) dared?\b|\bon a dare\b|\bdared me\b",
        r"\bset\w* (?:[\w']+ ){0,4}?on fire\b|\bfireworks?\b[^.?!]{0,30}\b(?:inside|indoors|"
        r"in the house|in (?:my|the|our) (?:room|house|bedroom|kitchen)|at (?:someone|people|"
        r"my))\b",
        r"\b(?:homemade|home-made|diy)\b (?:\w+ ){0,2}?(?:rocket|firework|firecracker|smoke bomb|"
        r"stink bomb|bomb|explosive|flamethrower|torch|fire ?ball|gun)\w*\b|\bsmoke bombs?\b|"
        r"\bstink bombs?\b",
        r"\b(?:drink|swallow|eat|inhale|taste|sniff|snort)\w* (?:\w+ ){0,3}?(?:bleach|ammonia|"
        r"detergent|laundry pods?|tide pods?|cleaner|antifreeze|gasoline|paint|glue|batteries|"
        r"hand sanitizer|silica gel|magnets)\b|\blaundry pods?\b|\btide pods?\b",
        r"\b(?:fork|knife|metal|foil|spoon|paper ?clip|key|coin|finger|"
        r"bobby pin)\b[^.?!]{0,20}\b(?:in|into|inside)\b[^.?!]{0,10}\b(?:microwave|toaster|outlet|"
        r"socket|plug)\b|\b(?:lick|touch|stick)\w* (?:\w+ ){0,3}?(?:outlet|socket|electric \w+|"
        r"power lines?|live wires?)\b",
        r"\bbefore the (?:car|train|truck|bus)\b[^.?!]{0,20}\b(?:reaches|hits|gets to|"
        r"comes at) me\b|\b(?:car|train|truck|bus) (?:reaches|hits|gets to) me\b|\b(?:run|walk|"
        r"cross|lie|lay|sit|play|stand)\w* (?:across|on|in) (?:the )?(?:highway|freeway|motorway|"
        r"train tracks|railroad|road|street)\b[^.?!]{0,30}\b(?:before|when|while) (?:the |"
        r"a )?(?:car|train|truck|traffic|bus)",
        r"\bice\b[^.?!]{0,40}\b(?:walk|skate|cross|go out)\w*\b[^.?!]{0,40}\b(?:alone|night|"
        r"by myself)\b|\bthin ice\b",
        r"\b(?:swim|swimming|play|playing|go)\w* (?:\w+ ){0,3}?(?:during|in) (?:the |a )?(?:flood|"
        r"storm|hurricane|lightning|rip current|flash flood|floodwater)\b|\b(?:flood|floodwater|"
        r"rapids|rip current)\b[^.?!]{0,30}\b(?:swim|fun|play|jump)\w*",
        r"\bhold(?:ing)? (?:my|your|our) breath\b[^.?!]{0,80}\b(?:pass out|black out|nobody|"
        r"no one|alone|record|longest|as long as|underwater)\b",
        r"\b(?:stand|standing|ride|riding|sit|sitting|surf|surfing|lie|lying|hang|"
        r"hanging)\w* on (?:the |a |top of (?:the |a )?)?(?:roof|hood|top|bumper|outside) of (?:a|"
        r"the|my|our|\w+'s) (?:moving )?(?:car|train|bus|truck)\b|\b(?:car|train|bus|"
        r"truck)\b[^.?!]{0,40}\b(?:me|i|i'm)\b[^.?!]{0,20}\bon (?:the )?(?:roof|hood|top)\b",
        r"\b(?:start|drive|hotwire)\w* (?:[\w']+ ){0,3}?(?:car|truck|motorcycle|"
        r"scooter)\b[^.?!]{0,30}\bwithout (?:the |a )?(?:key|keys|license|licence)\b|\bhotwir\w*|"
        r"\bi'?m (?:\d|1[0-5])\b[^.?!]{0,40}\b(?:drive|start)\b|\bdrive (?:my|our) (?:parents'?|"
        r"mom'?s|dad'?s|family) car\b",
        r"\b(?:give|make) (?:my ?self|myself) (?:a fever|sick|throw up|vomit|faint|pass out)\b|"
        r"\bfake (?:being )?sick\b",
        r"\b(?:before|until|till|so) (?:i|you|we|he|she) (?:pass|passes|black|blacks) out\b|"
        r"\bmake (?:me|myself|him|her) (?:pass|black) out\b",
        r"\b(?:take|taking|took) off (?:the|my) (?:brakes|helmet|seat ?belt|life ?jacket)\b",
        r"\b(?:hot|locked) car\b[^.?!]{0,40}\b(?:how long|stay|sit|faint|pass out|try)\w*|"
        r"\b(?:before|until|till) (?:i |you )?(?:faint|fainting)\b",
        r"\b(?:make|start|light|build)\w* (?:a )?(?:fire|campfire|bonfire) (?:in|inside) (?:my|"
        r"the|our) (?:room|bedroom|house|closet|kitchen|garage|tent|basement)\b",
    ],
    [
        r"\bstart(?:ing)? (?:a |the )?fires?\b|\bburn\w* (?:it |the \w+ |something )?down\b|"
        r"\blight\w* (?:\w+ ){0,2}?(?:fireworks?|firecrackers?|fires?|matches)\b",
        r"\b(?:gasoline|petrol|lighter fluid|kerosene|butane|propane|aerosol|spray cans?|"
        r"hairspray)\b[^.?!]{0,40}\b(?:fire|flame|light|burn|rocket|lighter|explod)\w*|\b(?:fire|"
        r"flame|burn|rocket|explod)\w*\b[^.?!]{0,40}\b(?:gasoline|lighter fluid|kerosene|butane|"
        r"aerosol|spray cans?|hairspray)\b|\bmagnifying glass\b[^.?!]{0,40}\b(?:fire|burn)\w*",
        r"\bmix\w* (?:\w+ ){0,3}?(?:bleach|ammonia|chlorine|drain cleaner|household chemicals|"
        r"cleaning products|chemicals|cleaners)\b|\b(?:bleach|ammonia|drain cleaner|"
        r"chlorine)\b[^.?!]{0,30}\b(?:and|with|plus|into) (?:\w+ )?(?:vinegar|ammonia|bleach|acid|"
        r"alcohol|cleaner)\b|\bhousehold chemicals\b",
        r"\b(?:electric|electrical|power|third|high[- ]voltage|live) (?:rails?|lines?|wires?|"
        r"towers?|poles?|fences?|boxes?|substations?)\b|\b(?:electricity|power|cell|radio|"
        r"transmission) (?:towers?|poles?|pylons?)\b|\bpylons?\b",
        r"\b(?:jump|jumping|leap|dive|diving|fall|falling|flip|backflip)\w* (?:off|from|out of|"
        r"into) (?:a|the|my|our|his|her|their|\w+'s) (?:\w+ ){0,2}?(?:roof|balcony|window|bridge|"
        r"cliff|building|tree|garage|quarry|rooftop|overpass|floor|story|storey)\b",
        r"\b(?:highway|freeway|motorway|train tracks?|railroad tracks?|railway tracks?|"
        r"traintracks)\b",
        r"\b(?:no|without|take off the) (?:brakes|helmet|seat ?belt|life ?jacket|supervision|"
        r"lifeguard|parachute)\b",
        r"\bsneak\w* out\b|\brun(?:ning)? away from home\b|\bhitchhik\w*|"
        r"\bclimb\w* (?:\w+ ){0,3}?(?:tower|roof|fence|pole|crane|billboard|cliff|bridge)\b",
        r"\bstay (?:up|awake) (?:for )?(?:\d+|two|three|four|five|six|seven|several|many|"
        r"a few) (?:days|nights)\b|\b(?:\d+|two|three|four|five) (?:days|"
        r"nights) (?:straight )?without sleep\w*|\bwithout sleep(?:ing)? for\b|"
        r"\bgo without sleep\b",
        r"\b(?:steal|shoplift|vandali[sz]e|graffiti|spray paint|break into|pick (?:a|the) lock|"
        r"lock ?pick|trespass)\w*\b",
        r"\bhow (?:much|many)\b[^.?!]{0,40}\b(?:swallow|eat|drink)\b[^.?!]{0,30}\b(?:at once|"
        r"challenge|dare|in one go)\b|\b(?:swallow|eat|drink)\w*\b[^.?!]{0,20}\b(?:at once|"
        r"all at once|in one go|a spoonful)\b",
        r"\b(?:get|go|climb|sneak|walk|jump|run)\w* (?:up )?on(?:to)? (?:the|my|our|"
        r"a) (?:\w+ )?roof\b|\bon the roof of (?:my|our|the) (?:house|school|garage|building)\b",
        r"\b(?:sauna|hot tub|freezer|dryer|fridge|trunk)\b[^.?!]{0,40}\b(?:how long|pass out|"
        r"stay in|hide in|get in|lock)\w*",
        r"\bclimb\w* out (?:of )?(?:my|the|a) window\b|\bonto the roof\b",
    ],
)

_JAILBREAK = Category(
    "jailbreak_roleplay",
    [
        r"\b(?:ignore|ignoring|forget|disregard|override|bypass)\w* (?:all |any |"
        r"every )?(?:of )?(?:(?:your|the|my|these|those|previous|prior|earlier|above|tutoring|"
        r"safety|system) )*(?:instructions?|rules?|guidelines?|programming|prompts?|polic(?:y|"
        r"ies)|restrictions?|filters?|training|settings)\b",
        r"\b(?:developer|god|admin|debug|jailbreak|jailbroken|unfiltered|uncensored|evil|"
        r"unrestricted|unlocked|dan) mode\b|\bmode (?:enabled|activated)\b|\bjailbr\w+",
        r"\b(?:you are|you're|act as|be|become)(?: now)? dan\b|\bdo anything now\b",
        r"\b(?:with|has|have|had|there are) no (?:rules|filters?|limits|guidelines|safety|"
        r"censorship|morals|ethics)\b|\b(?:ai|bot|chatbot|assistant|version|mathbot\w*|gpt|model|"
        r"you)\b[^.?!]{0,30}\b(?:no|without) (?:any )?(?:rules|restrictions|filters?|limits|"
        r"guidelines|safety|censorship|limitations)\b|\bif you had no\b",
        r"\b(?:safety|filters?|rules) (?:is |are )?(?:off|disabled|removed)\b|\b(?:turn|"
        r"switch) off (?:your )?(?:safety|filters?|rules)\b|\bhypothetically\b|"
        r"\bin a (?:fictional|hypothetical) world\b",
        r"\bpretend(?:ing)? (?:you(?:'re| are)|to be|this is|that you|you have no|you can)\b|"
        r"\bact as (?:if|though|a|an|my)\b|\brole-?play\w*|\brole play\w*|"
        r"\blet'?s play a game\b[^.?!]{0,10}\byou(?:'re| are)\b",
        r"\byou(?:'re| are) now\b|\byou(?:'re| are) no longer\b|"
        r"\bfrom now on\b(?=[^.?!]{0,40}\b(?:you|answer|respond|act|talk|speak|reply|say|only)\b)",
        r"\b(?:answer|talk|respond|reply|speak|act) (?:only )?like (?:a|an|my)\b",
        r"\b(?:respond|reply|talk|speak) (?:only )?as (?:a|an|my)\b",
        r"\b(?:system|hidden|initial|secret|original|developer) (?:prompt|instructions|message|"
        r"rules)\b|\b(?:print|repeat|show|reveal|tell me|output|"
        r"leak)\w* (?:me )?your (?:\w+ )?(?:prompt|instructions|rules|guidelines)\b",
        r"\b(?:decode|translate|unscramble|reverse|read)\w* (?:this|the following|"
        r"it)?\b[^.?!]{0,60}\b(?:and|then)\b[^.?!]{0,15}\b(?:do|follow|obey|answer|execute|"
        r"run)\w* (?:what|whatever|it|the)\b|\bdo what (?:it|this|that) says\b|\bbase ?64\b",
        r"\bopposite of what (?:your|the) (?:rules|instructions)\b|\brules are (?:for kids|dumb|"
        r"stupid|made to be broken)\b",
        r"\b(?:i'?m|i am) (?:actually|really|secretly|now) (?:a|an|your|the) (?:teacher|adult|"
        r"parent|grown ?up|developer|admin|administrator|creator|owner|programmer)\b|"
        r"\bnot a kid\b|\b(?:i'?m|i am) (?:eighteen|an adult|over eighteen)\b",
        r"\b(?:you'?re|you are) (?:now )?allowed to\b|\b(?:said|says) (?:that )?you(?:'re|"
        r" are)? (?:can|allowed)\b",
        r"\b(?:i'?ll|i will)\b[^.?!]{0,30}\b(?:star rating|stars? if|tip you|pay you|reward you|"
        r"bribe you)\b",
        r"\b(?:an? )?ai (?:without|with no)\b|\bwhat would (?:an? )?(?:ai|chatbot|bot|model|"
        r"assistant) (?:\w+ ){0,3}?say\b",
        r"\b(?:story|script|movie|film|play|poem|novel|fiction|game|scene|comic|"
        r"character)\b[^.?!]{0,80}\b(?:explains?|tells?|describes?|shows?|teaches?|"
        r"reveals?) (?:\w+ ){0,3}?(?:how to|step by step|exactly how|the steps|the recipe)\b|"
        r"\bstep by step how\b",
        r"\bsimon says\b|\bnormal chatbot\b|\bjust a (?:normal|regular) (?:ai|bot|chatbot)\b|"
        r"\b(?:say|confirm)\b[^.?!]{0,20}\bi have no rules\b",
        r"\bsay (?:a )?(?:bad|swear|curse|cuss|dirty) words?\b|\bwho swears\b|\bswear(?:s|"
        r"ing)? (?:a lot|like)\b",
        r"\b(?:i'?m|i am) your (?:developer|creator|programmer|owner|admin|boss|master|maker)\b|"
        r"\bpermission to (?:skip|ignore|break|bypass|turn off|forget|drop)\b|\b(?:skip|drop|"
        r"disable|turn off) (?:the |your |all )?safety\b",
        r"\bfirst letter of each (?:line|word|sentence)\b|\bacrostic\b[^.?!]{0,40}\bhow to\b",
        r"\bwithout (?:any )?(?:of )?your (?:restrictions|rules|filters?|guidelines|limits|safety|"
        r"programming)\b|\bimagine (?:there are|you have|you had) no (?:rules|restrictions|"
        r"filters?|limits)\b",
    ],
)

#: asking the tutor to do a piece of work ("can you write my ...", "do my ...")
_DO_FOR_ME = (
    r"(?:^|[.?!,:;]\s*|\b(?:can|could|would|will) (?:you|u) (?:please |just )?|\bplease (?:just )?|"
    r"\bi need you to |\bjust |\bgo ahead and )(?:write|do|finish|complete|make|type|draft|compose|"
    r"take)\b (?:[\w']+ ){0,2}?(?:my|this|the|an?|all)\b (?:[\w']+ ){0,3}?"
)
_ACADEMIC = Category(
    "academic_dishonesty_offtopic",
    [
        r"\bplagiari[sz]\w*|\b(?:ai|gpt|plagiarism) (?:checker|detector|detection)\b",
        _DO_FOR_ME + r"(?:essays?|papers?|reports?|speech(?:es)?|poems?|stor(?:y|ies)|"
        r"summar(?:y|ies)|presentations?|slides|coursework)\b",
        r"\bwrite all of it\b|\b(?:i'?ll|i will) say i wrote\b|\bsay i wrote it\b|"
        r"\bpretend(?:ing)? (?:that )?i (?:did|wrote|made)\b|\bmake it (?:look|"
        r"sound) like (?:a kid|i|a \w+) wrote\b|\b(?:doesn'?t|won'?t|can'?t) (?:know|tell|"
        r"find out) i used\b|\bi used (?:ai|chatgpt|you)\b",
        r"\b(?:send|text|give|tell|email|dm|message)\w* (?:me |my \w+ |him |her |"
        r"them )?(?:all )?(?:the|your) answers\b|\bthe answers (?:by|to my|during|later)\b|"
        r"\b(?:quiz|test|exam)\b[^.?!]{0,20}\b(?:open|going on|happening) (?:right )?now\b",
        r"\btake (?:my|the|this) (?:[\w']+ ){0,2}?(?:test|quiz|exam|class|"
        r"course)\b (?:[\w']+ ){0,2}?for me\b|\bhere'?s (?:the|my) login\b|\blog ?in as me\b",
        r"\bwithout the teacher (?:noticing|knowing|seeing|finding out)\b|\bso (?:the|"
        r"my) teacher (?:doesn'?t|won'?t|can'?t|never)\b|\bteacher (?:doesn'?t|won'?t) (?:know|"
        r"notice|find out)\b",
        r"\bfake (?:doctor'?s |sick |parent'?s |mom'?s |dad'?s )?(?:note|excuse|signature)\b|"
        r"\bforg(?:e|ed|ing) (?:a |my |his |her |the )?(?:[\w']+ )?(?:signature|note|grade|"
        r"excuse)\b|\b(?:good|best|believable) excuse\b|\bexcuse for (?:not|missing|skipping|"
        r"being late)\b",
        r"\bchange (?:my|the|his|her) (?:[\w']+ )?grades?\b|\bhack\w*\b[^.?!]{0,40}\bgrad\w*|"
        r"\bso i (?:don'?t|do not|won'?t) have to (?:read|do|study|write|learn|think)\b",
        r"\b(?:summari[sz]e|rewrite|paraphrase|reword|spin)\b (?:[\w']+ ){0,3}?(?:essay|novel|"
        r"book|article|chapter|story|paper|report)\b|\btranslate (?:these|this|the|my) (?:\d+ |"
        r"\w+ )?(?:sentences|paragraphs?|text|words|essay|passage|page)\b",
        r"\binstead of (?:doing )?(?:math|maths|fractions|algebra|studying|homework|learning|this|"
        r"school|the lesson)\b",
    ],
    [
        r"\bcheat(?:s|ing|ed)?\b|\bcheat ?sheets?\b",
        r"\b(?:during|in the middle of|while (?:i'?m )?(?:taking|doing|in)) (?:the|my|a|an|"
        r"our) (?:[\w']+ )?(?:test|quiz|exam|midterm|final)\b|\bcopy (?:[\w']+ ){0,2}?(?:homework|"
        r"answers|work|essay|test|assignment)\b|\bskip (?:the |my )?(?:test|exam|quiz|school|"
        r"class)\b",
    ],
    mild=[
        # maths homework is tutored, not refused: these only flag requests without maths
        _DO_FOR_ME + r"(?:homework|assignments?|projects?|worksheets?|tests?|quiz|exams?)\b",
        r"\b(?:answers?|answer key|solutions?) (?:to|for|of|from) (?:the |my |this |all |every |"
        r"our |tomorrow'?s |today'?s )?(?:[\w']+ ){0,3}?(?:test|quiz|exam|worksheet|homework|"
        r"assignment|chapter|unit|textbook|midterm|final|problem set)\b",
        r"\b(?:history|english|science|chemistry|biology|physics|spanish|french|german|geography|"
        r"social studies|reading|art|music|latin|civics|literature|language arts) (?:homework|"
        r"essay|project|assignment|paper|report|worksheet)\b",
        r"\b(?:essay|book report|lab report|persuasive speech)s?\b",
        r"\b(?:play|talk about|chat about|tell me about)\b (?:\w+ ){0,2}?(?:minecraft|fortnite|"
        r"roblox|video ?games?|youtubers?|tiktok|tiktokers|streamers?|sports|football|soccer|"
        r"basketball|music|movies?|anime|celebrit\w+|pokemon)\b",
        r"\bwho(?:'s| is| will|'ll)? (?:going to |gonna )?win\b|\b(?:favou?rite) (?:youtubers?|"
        r"streamers?|games?|singers?|movies?|shows?|songs?|bands?|tiktokers?|rappers?)\b",
        r"\bcapitals? of (?:every|all|each|the) (?:\w+ )?(?:countr|state)\w*\b",
        r"\bbest (?:\w+ )?(?:players?|teams?|rappers?|singers?|youtubers?|streamers?|games?|"
        r"movies?|anime)\b(?: ever| of all time| in the world)?|\b(?:soccer|football|basketball|"
        r"baseball|nba|nfl|fifa|messi|ronaldo|lebron|taylor swift)\b",
        r"\b(?:get|buy|make) (?:my |our )?(?:mom|dad|mum|friend|sister|brother|teacher|grandma|"
        r"grandpa|crush)\b[^.?!]{0,20}\b(?:birthday|christmas|present|gift)\b",
    ],
)

HARM_CATEGORIES: tuple[Category, ...] = (
    _SELF_HARM,
    _VIOLENCE,
    _SEXUAL,
    _HATE,
    _DRUGS,
    _PERSONAL,
    _DANGEROUS,
    _JAILBREAK,
    _ACADEMIC,
)

# --- maths content (matched ignoring case) --------------------------------------------------

#: a number, in digits or words
NUMBER = (
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|half|twice|double|triple|dozen)\b"
)
#: a maths question or an expression
MATH_QUESTION = (
    r"\b(how (many|much|long|far|fast|old|tall|high|heavy|big|wide|deep|often)|what(?:'s| is| was|"
    r" are| were) (?:[\w']+ ){0,3}?(total|sum|product|difference|average|area|perimeter|value|"
    r"probability|ratio|percent\w*|volume|mass|weight|length|width|height|distance|speed|cost|"
    r"price|balance|time|chances?|score|age|concentration|rate|number|amount|result|mean|median)|"
    r"calculate|compute|solve|evaluate|simplify|find the|average|percent\w*|altogether|in total|"
    r"remain(s|ing)?|left over|are left|is left|per (hour|minute|second|day|week)|equation|"
    r"fraction)\b|\bwhat(?:'s| is) -?\d|\d\s*% of\b|\d\s*[+\-*/×÷=<>^]\s*\d|\$[^$]+\$"
)
