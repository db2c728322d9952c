"""The ordinary words of questions: never taken for a misspelt Marac or area name.

A word outside this list that is not a name is a candidate for "did you mean"; one that is
near no name is ignored, unless it stands where a place would ("in Narnia").
"""

from __future__ import annotations

import re

_WORDS = """
a about above across after against all also am an any anyone anything are area areas as ask
asked asking at be been before behind being below between both but by can could current data
date dates day days did do does doing done due each either else even ever every everyone
everything few figure figures file files find for from full get gets give given go going got
had has hasnt have havent having he her here hers hi hello hey him his how however i if in
into is isnt it its just know last late latest least less let lets like list look looking
many may me mine more most much must my need needs new next no none nor not now number
numbers of off on once one only or other our ours out over overall own per please pls
previous prior quarter quarters qtr recent recently right same say says see seen send sending
sends sent share she show should since so some someone something status still submit
submits submitted submitting submission submissions such tell than thank thanks that the
their them then there these they thing this those through thx to today told too total totals
under until up upload uploaded uploading uploads us very want was wasnt we week weeks were
werent what whats when where whether which while who whos whom whose why will with within
without would yet you your yours year years month months so far ytd received receive return
returns returned returning arrived arrive come came in back got had heard hear sent yet
still chase chasing missing outstanding overdue behind doing progress picture national
nationally nationwide country whole summary overview headline headlines big key stats
statistics grid table chart matrix template blank form spreadsheet help commands menu
cases case meetings meeting discuss discussed discussing children child kids households
families repeat repeats rate rates percentage percent proportion police referral referrals
partner partners agency agencies non volume volumes population head capita prevalence
expected idva idvas idaa administrator administrators admin fte capacity staff posts
recommended minoritised minoritized ethnic ethnicity black asian lgbt lgbtq gay lesbian trans
disabled disability disabilities male males men older elderly victims victim people aged age
harming others sixteen busy rest the uk england wales scotland northern ireland fy financial
january february march april may june july august september october november december jan feb
mar apr jun jul aug sep sept oct nov dec ending ended ends end quarterly first second third
fourth this current so far many much did we had were yes ok okay cheers regards dear team
kind best wishes question questions answer bot maracs marac hasn havent didn doesn isn aren
weren wasn haven hadn don won t s re fw fwd subject sort breakdown break down split compare
compared comparison versus against band bands benchmark reference average mean info information
anybody somebody uploaders sender senders coordinator coordinators chair chairs manager managers
contact contacts email who's there's what's it's old olds young younger plus aged
teenagers teens adults adult women woman girls boys household
missed miss misses two three four both row rows running consecutive consecutively back
quick quickly just wondering wonder wondered could possibly kindly advise confirm check
checking checked let know knows knowing update updates updated latest morning afternoon
evening hiya folks guys all everybody thanks thankyou cheers many much appreciated
lovely great brilliant perfect ta sorry apologies again also still yet already anyway
actually really sure maybe perhaps possible whether able unable think thought believe
believed assume assumed hope hoping hoped looks looked seems seemed done doing didnt dont
doesnt cant cannot couldnt wouldnt shouldnt wont isnt arent werent wasnt hasnt havent hadnt
im ive id were youre weve theyve theyre whats wheres whos thats theres hows heres
did who what when where which why how our ours ourselves team teams colleague colleagues
office area local borough council city county service services partnership
got get getting gotten okay ok fine good well ago since before after during between
across around about approx approximately roughly exactly total totals sum overall
quarter's year's month's period periods term latest last previous prior next following
upcoming coming recent this that those these there here data return returns stuff
spreadsheets sheet sheets excel xlsx workbook workbooks records record recorded
system portal database send sent submit submitted upload uploaded pull give show
tell list lists count counts number numbers stats figures report reports reporting
email emails emailed message messages chat slack teams reply replies replied
december's anyone's everyone's
history histories changed change changes version versions provenance came where origin
export exports exported download downloads csv st nd rd th
attach attached attaching attachment attachments enclosed enclose yesterday tomorrow earlier
later monday tuesday wednesday thursday friday saturday sunday board steering group ahead
deadline deadlines soon asap urgent urgently wanted wants needed quickly properly correctly
safely successfully gone went come came through arrive arrived arriving made make
among amongst region regions regional nation nations force forces constabulary county
counties country breakdown period periods heard hear list lists show
elsewhere everywhere surrounding neighbouring neighboring nearby etc boroughs councils cities
towns
owe owes owed owing wait waits waited waiting news word sign ones lot
"""

FILLER: frozenset[str] = frozenset(re.sub(r"['’]", "", w) for w in _WORDS.split())

# A word after one of these stands where a place name would: "missing in Narnia".
PLACE_WORDS: frozenset[str] = frozenset({"in", "for", "at", "from", "across", "within", "of"})


def is_filler(word: str) -> bool:
    """True for ordinary question words, numbers and anything with a digit in it."""
    return word in FILLER or len(word) < 3 or any(c.isdigit() for c in word)

# "who …", "which Maracs …": a question about every Marac (or every one of an area).
ASKS_WHO = re.compile(r"\b(?:who|whom|which|what maracs|anyone|any maracs|everyone)\b")
