"""Enumerations: split a rule region into one token range per duty or skill.

Commas and conjunctions split a region unless a preposition protects its object
("samarbeta med läkare, sjuksköterskor och kuratorer") or the parts share a head; a
verb after the separator (``verb_markers``, ``verb_suffixes``, ``verb_pos``, or a
present-tense form by ``present_verb``) always starts a new duty, and so does a verbal noun
(``verbal_noun_endings``: "prowadzenie", "booking") in a duty region, and a region opened by
a role-subject verb splits only there ("hanterar X, ordnar Y och screenar Z").

A disjunction (``disjunctions``: "of", "oder", "or") between skill words of one subtype offers alternatives
that meet one requirement ("een hbo-opleiding of mbo-niveau 4"): it does not split.

A region whose commas are followed by verbs (``duty_verbs`` where infinitives have no telling
ending) lists verb phrases: it splits only before verbs, so "boka möten och resor för chefen,
beställa material och svara på samtal" keeps "möten och resor" together. A relative clause after
a word for tasks (``task_nouns``: "uppgifter som hanterar X, ordnar Y") lists the duties, and the
vague phrase before it is dropped, and so is a duty whose object is only such a word made vague by a
quantifier (``vague_quantifiers``: "these tasks"); "fungera som <title>," ends at its comma (``role_copulas``).
Two role names joined by a conjunction are one object ("các điều phối viên và quản lý cấp trên").
"""
from __future__ import annotations

from kb.text.lemmas import Token
from ingest.extract.rules import LangRules, Matches, Region
from ingest.extract.subjects import is_verb, verbal_noun

TRAILING = ("PREPOSITIONS", "RELATIVES", "CONJUNCTIONS", "COPULAS", "VERB_MARKERS", "BREAKS")


def enumeration(tokens: list[Token], region: Region, matches: Matches, rules: LangRules) -> list[tuple[int, int]]:
    """Split a region into one token range per enumerated duty or skill."""
    lo, hi = region.start, region.end
    parts, start, protected, index = [], lo, False, lo
    in_list = False
    # a predicate's subject ("X, Y och Z är nödvändiga färdigheter") lists activities, verbs or not
    verb_list = region.kind != "skill" and not region.subject and _verb_list(tokens, region, matches, rules)
    shared_verb = region.kind == "duty" and not region.subject  # "Atender llamadas y correos": one duty
    vague: list[tuple[int, int]] = []  # "a range of tasks" before the relative clause that lists them
    closing: list[int] = []  # starts of parts after a conjunction
    while index < hi:
        conj_end = matches.starting("CONJUNCTIONS", index)
        is_sep = tokens[index].text in (",", "/") or conj_end > 0
        if matches.starting("PREPOSITIONS", index) > 0 and not _inside(matches, "STRIP", index):
            protected = True
        clause = _task_list(tokens, index, matches, rules) if region.kind != "skill" else -1
        if clause > 0:
            vague.append((start, index))  # "uppgifter som hanterar X, ordnar Y": the clause lists the duties
            parts.append((start, index))
            start = index = clause
            protected = False
            continue
        if not is_sep:
            index += 1
            continue
        after = max(index + 1, conj_end)
        if _hedge(tokens, (start, index, after, hi), matches):
            index = after  # "eine Ausbildung, idealerweise als Kauffrau": the hedge narrows the item before it
            continue
        role_copula = _role_copula(tokens, (start, index), matches)
        next_verb = _verb_start(tokens, _past_function_words(tokens, after, hi, matches), region, matches, rules)
        if not role_copula and not next_verb and (verb_list or (
                shared_verb and conj_end > 0 and not in_list
                and verb_headed(tokens, (start, index), region, matches, rules))):
            index = after  # "ordnar transport och hotellrum": the object goes on until the next verb
            continue
        if role_copula or \
                _split_here(tokens, region, matches, rules, (start, index, after, hi), protected, in_list):
            if conj_end > 0:
                closing.append(after)
            if index > start:
                parts.append((start, index))
            start, protected = after, False
            in_list = tokens[index].text == ","
        index = after
    if start < hi:
        parts.append((start, hi))
    # a conjunction never ends an item ("được tổ chức cao và | có ..."), even where other function words may
    trailing = TRAILING if rules.data.get("trim_trailing", True) else ("CONJUNCTIONS",)
    raw_parts = parts
    parts = [_particle_free(_strip(tokens, part, matches, trailing), matches) for part in parts]
    parts = [part for part, raw in zip(parts, raw_parts) if raw not in vague]
    parts = [part for part in parts if part[1] > part[0] and matches.starting("NEGATIONS", part[0]) < 0
             and not _bare_head(tokens, part, rules) and not _aside(part, region, matches)
             and not _names_the_job(tokens, part, region, matches)
             and not _generic_tasks(tokens, part, region, matches, rules)]
    firm = frozenset(_strip(tokens, (start, hi), matches, ())[0] for start in closing) if region.subject else frozenset()
    if region.kind == "skill":  # "plan and prioritise your work": a lone verb shares the next part's object
        return _merge_fragments(parts, firm, lambda part: part[1] - part[0] == 1 and part != parts[-1]
                                and _verb_start(tokens, part[0], region, matches, rules, nouns=False))
    return _merge_fragments(parts, firm, lambda part: _bare_verb(tokens, part, matches, rules))


def _hedge(tokens: list[Token], bounds: tuple[int, int, int, int], matches: Matches) -> bool:
    """Whether a comma opens a hedge of preference (``preferences``: "bij voorkeur in de richting logistiek",
    "de préférence également H0") that narrows the part before it; one that names a skill of another
    kind ("eine Ausbildung, idealerweise Berufserfahrung") is an item of its own."""
    start, index, after, hi = bounds
    if tokens[index].text != "," or matches.starting("PREFERENCES", after) < 0:
        return False
    stop = next((i for i in range(after, hi) if tokens[i].text == ","), hi)
    before = {label for label, _, _ in matches.within("HEAD", start, index)}
    return {label for label, _, _ in matches.within("HEAD", after, stop)} <= before


def _inside(matches: Matches, label: str, index: int) -> bool:
    """Whether a ``label`` match covers the token at ``index`` ("till och med": an adverb, not a preposition)."""
    return any(start <= index < end for _, start, end in matches.within(label, max(0, index - 4), index + 5))


def _verb_start(tokens: list[Token], index: int, region: Region, matches: Matches, rules: LangRules,
                nouns: bool = True) -> bool:
    """Whether the token at ``index`` opens a verb phrase (or, in a duty region with ``nouns``, a verbal noun)."""
    if index >= len(tokens):
        return False
    token = tokens[index]
    suffixes = tuple(rules.data.get("verb_suffixes", []))
    if verbal_noun(token, rules.data):
        return nouns and region.kind == "duty"
    if matches.starting("VERB_MARKERS", index) > 0 or matches.starting("DUTY_VERBS", index) > 0:
        return True
    if rules.data.get("duty_verbs") and not token.pos and not region.source.endswith(":role_verb"):
        return False  # outside present-tense lists a present-tense ending alone ("trips", "chefer") is no proof
    return (token.pos in rules.data.get("verb_pos", []) or bool(suffixes and token.lemma.endswith(suffixes))
            or is_verb(token, rules.data))


def _verb_list(tokens: list[Token], region: Region, matches: Matches, rules: LangRules) -> bool:
    """Whether a region lists verb phrases: a comma followed by a verb that is no POS-tag guess
    ("hanterar X, ordnar Y och Z"); then a conjunction splits only before the next verb."""
    if rules.data.get("verb_pos"):
        return False  # POS tags also mark nouns as verbs ("bán hàng"): no reliable verb list
    return any(tokens[index].text == "," and _verb_start(tokens, index + 1, region, matches, rules, nouns=False)
               for index in range(region.start, region.end - 1))


def verb_headed(tokens: list[Token], part: tuple[int, int], region: Region, matches: Matches,
                rules: LangRules) -> bool:
    """Whether a part is a verb with its object so far ("Atender llamadas", "tillaga varma"): what a
    conjunction or comma adds without a verb of its own is more of that object, one duty."""
    first, _ = _strip(tokens, part, matches, ())
    return part[1] - first >= 2 and _verb_start(tokens, first, region, matches, rules)


def _task_list(tokens: list[Token], index: int, matches: Matches, rules: LangRules) -> int:
    """Where the duties start when a relative clause opened by a verb follows a word for tasks
    (``task_nouns``: "uppgifter som hanterar X", "zadań, które obejmują X"); -1 elsewhere."""
    relative = index + 1 if tokens[index].text == "," else index
    after = matches.starting("RELATIVES", relative) if relative < len(tokens) else -1
    if after < 0 or index == 0 or after >= len(tokens):
        return -1
    ends_task = any(end == index for _, _, end in matches.within("TASK_NOUNS", max(0, index - 3), index))
    return after if ends_task and is_verb(tokens[after], rules.data) else -1


def _role_copula(tokens: list[Token], part: tuple[int, int], matches: Matches) -> bool:
    """A comma ends "fungera som en assistent" so that the duties after it stand alone."""
    start, _ = _strip(tokens, part, matches, ())
    return tokens[part[1]].text == "," and matches.starting("ROLE_COPULAS", start) > 0


def _aside(part: tuple[int, int], region: Region, matches: Matches) -> bool:
    """A head that no frame asks for, inside a prepositional phrase ("Utöver utbildning") or a
    negated clause ("finns ingen formell utbildning"), is talk about skills, not a requirement;
    "fungerar som <title>" names the role, not a duty (``role_copulas``)."""
    if region.kind != "skill" and matches.starting("ROLE_COPULAS", part[0]) > 0:
        return True
    if not region.source.endswith(":head"):
        return False
    return matches.starting("PREPOSITIONS", part[0]) > 0 or bool(matches.within("NEGATIONS", part[0], part[1]))


def _names_the_job(tokens: list[Token], part: tuple[int, int], region: Region, matches: Matches) -> bool:
    """A part that opens with a word for the job itself (``job_nouns``: "jobbet", "denna position") talks
    about the job: as the subject of a predicate ("arbetet hos en koordinator kan innehålla uppgifter") or
    without a complement ("ansvaret för jobbet ändras ofta"); "arbetet med budgeten" names an activity."""
    end = matches.starting("JOB_NOUNS", part[0])
    if end < 0 or not region.source.startswith("rule:"):
        return False  # a plain clause ("Tjänsten innebär skiftarbete") is the classifier's to judge
    return region.subject or end >= part[1] or matches.starting("PREPOSITIONS", end) < 0


def _generic_tasks(tokens: list[Token], part: tuple[int, int], region: Region, matches: Matches,
                   rules: LangRules) -> bool:
    """A duty whose object is only a word for tasks (``task_nouns``) with a demonstrative or quantifier
    (``vague_quantifiers``: "these tasks", "olika arbetsuppgifter", "một số nhiệm vụ chính") names no
    particular duty, nor does an adjunct that opens with no activity ("during a typical day"); "such as
    filing invoices" or "utför uppgifter som X" say what the tasks are."""
    if region.kind == "skill" or not rules.data.get("vague_quantifiers"):
        return False
    start, end = part
    index = _past_verb(tokens, part, rules)
    tasks = vague = False
    while start < index < end:
        task_end = matches.starting("TASK_NOUNS", index)
        vague_end = matches.starting("VAGUE_QUANTIFIERS", index)
        step = max(task_end, vague_end, *(matches.starting(label, index) for label in ("DETERMINERS", "STRIP")))
        if step <= index:
            break
        tasks, vague = tasks or task_end == step, vague or vague_end == step
        index = step
    preposition = matches.starting("PREPOSITIONS", index)
    adjunct = 0 < preposition < end and not _verb_start(tokens, _past_determiner(tokens, preposition, end, matches),
                                                        region, matches, rules)
    return tasks and vague and (index >= end or tokens[index].is_punct or adjunct)


def _past_verb(tokens: list[Token], part: tuple[int, int], rules: LangRules) -> int:
    """Where the object of a part that opens with a verb starts: after its verb-tagged syllables
    (``verb_pos``), or after its first word where the language has no tags."""
    start, end = part
    verb_pos = rules.data.get("verb_pos", [])
    if not verb_pos:
        return start + 1
    index = start
    while index < end and tokens[index].pos in verb_pos:
        index += 1
    return index


def _bare_head(tokens: list[Token], part: tuple[int, int], rules: LangRules) -> bool:
    """A skill head word alone ("kompetens", "skills") names no particular skill."""
    return part[1] - part[0] == 1 and tokens[part[0]].lemma in rules.head_lemmas


def _split_here(tokens: list[Token], region: Region, matches: Matches, rules: LangRules,
                bounds: tuple[int, int, int, int], protected: bool, in_list: bool) -> bool:
    """Whether a comma or conjunction starts a new enumerated item."""
    start, index, after, hi = bounds
    if after >= hi:
        return False
    if matches.starting("RELATIVES", after) > 0:
        return False
    if _joins_roles(index, after, matches):
        return False  # "các điều phối viên và quản lý cấp trên": people worked with, not a new duty
    word = _past(tokens, after, hi, matches, ("STRIP",))  # ", till exempel att förbereda X": past the adverb
    nxt = tokens[word]
    suffixes = tuple(rules.data.get("verb_suffixes", []))
    if (matches.starting("VERB_MARKERS", word) > 0 or matches.starting("DUTY_VERBS", word) > 0
            or (suffixes and nxt.lemma.endswith(suffixes))):
        return True
    # a POS tag alone also marks nouns as verbs ("quản lý", "bảo hiểm"): after a comma in the object list of a
    # skill ("lớp học trong kinh doanh, quản lý hoặc quan hệ công chúng") it starts no new item
    listed = protected and region.kind == "skill" and tokens[index].text == ","
    if is_verb(nxt, rules.data) and not (listed and nxt.pos in rules.data.get("verb_pos", [])):
        return True
    noun = _past_determiner(tokens, after, hi, matches)
    if region.kind == "duty" and verbal_noun(tokens[noun], rules.data):
        return True  # "kontakt z rodzicami oraz prowadzenie dziennika", "et la rédaction de X": a new duty
    if region.source.endswith(":role_verb"):
        return False  # coordinated present-tense verb phrases split only before the next verb
    if region.kind == "skill" and _alternative(matches, bounds, noun):
        return False  # "hbo-opleiding Verpleegkunde of mbo-niveau 4": either one meets one requirement
    if region.kind == "skill" and matches.within("HEAD", noun, min(hi, noun + 2)) and matches.within("HEAD", start, index):
        return True  # "formación en Turismo y experiencia mínima": a new skill word starts a new skill
    if _modifier_conjunct(tokens, bounds, matches, rules):
        return False  # "een schone en veilige werkplek", "l'accueil téléphonique et physique des clients"
    if protected and not (in_list and tokens[index].text != ","):
        return False  # "hantera X, koordinera möten med Y och Z": the last conjunction closes the outer list
    if tokens[index].text == "," or region.kind != "skill":
        return True
    heads = (matches.within("HEAD", start, index), matches.within("HEAD", after, hi))
    return in_list or all(heads) or (index - start <= 1 and hi - after <= 1)


def _joins_roles(index: int, after: int, matches: Matches) -> bool:
    """Whether a conjunction joins two names of roles (``roles``): like joins like, so the second one is a
    person even where its word can be a verb too ("điều phối viên và quản lý cấp trên")."""
    return (matches.starting("CONJUNCTIONS", index) > 0 and matches.starting("ROLES", after) > 0
            and any(end == index for _, _, end in matches.within("ROLES", max(0, index - 4), index)))


def _alternative(matches: Matches, bounds: tuple[int, int, int, int], noun: int) -> bool:
    """Whether a disjunction (``disjunctions``: "of", "oder", "or") offers a skill word of the same subtype as the
    one before it ("een hbo-opleiding of mbo-niveau 4"): alternatives that meet one requirement, one item."""
    start, index, after, hi = bounds
    if matches.starting("DISJUNCTIONS", index) < 0:
        return False
    before = {label for label, _, _ in matches.within("HEAD", start, index)}
    offered = {label for label, _, _ in matches.within("HEAD", noun, min(hi, noun + 2))}
    return bool(offered) and offered <= before


def _modifier_conjunct(tokens: list[Token], bounds: tuple[int, int, int, int], matches: Matches,
                       rules: LangRules) -> bool:
    """Whether a conjunction joins modifiers of one noun: in a language with articles (``determiners``), a
    conjunct that opens with an article followed by one that lacks it and runs on for two words or more
    before the next separator ("een schone en veilige werkplek", "l'accueil téléphonique et physique des
    clients"); a skill head on either side is a noun of its own ("een rijbewijs en eigen vervoer")."""
    start, index, after, hi = bounds
    if not rules.data.get("determiners") or tokens[index].text == "," or tokens[index - 1].text == ",":
        return False  # ", and" closes a list of items
    first, _ = _strip(tokens, (start, index), matches, ())
    if matches.starting("DETERMINERS", first) < 0 or index - first < 2:
        return False
    if any(matches.starting(label, after) > 0 for label in ("DETERMINERS", "PREPOSITIONS")) \
            or any(head in (after, index - 1) for _, head, _ in matches.within("HEAD", index - 1, hi)):
        return False
    stop = next((i for i in range(after, hi) if tokens[i].text == "," or matches.starting("CONJUNCTIONS", i) > 0), hi)
    return stop - after >= 2


def _past_determiner(tokens: list[Token], index: int, hi: int, matches: Matches) -> int:
    """The first token at or after ``index`` that is no determiner (``determiners``: "la", "l'", "the")."""
    return _past(tokens, index, hi, matches, ("DETERMINERS",))


def _particle_free(part: tuple[int, int], matches: Matches) -> tuple[int, int]:
    """A part without the preposition that joins its infinitive to the frame ("y de cerrar la caja")."""
    after = matches.starting("PREPOSITIONS", part[0])
    return (after, part[1]) if 0 < after < part[1] and matches.starting("DUTY_VERBS", after) > 0 else part


def _past_function_words(tokens: list[Token], index: int, hi: int, matches: Matches) -> int:
    """The first token after determiners, prepositions and adverbs ("y de cerrar la caja", "et les accompagner",
    ", till exempel att förbereda X")."""
    return _past(tokens, index, hi, matches, ("DETERMINERS", "PREPOSITIONS", "STRIP"))


def _past(tokens: list[Token], index: int, hi: int, matches: Matches, labels: tuple[str, ...]) -> int:
    """The first token at or after ``index`` (and before the last of the part) that no ``labels`` match starts."""
    while index + 1 < hi:
        skip = max(matches.starting(label, index) for label in labels)
        if skip <= index:
            break
        index = skip
    return index


def _strip(tokens: list[Token], part: tuple[int, int], matches: Matches, trailing: tuple[str, ...]) -> tuple[int, int]:
    """Drop leading subjects, modals, adverbs, hedges and conjunctions, trailing punctuation and function words
    (``trim_trailing: false`` in the data where function words double as content syllables, as in Vietnamese)."""
    start, end = part
    while start < end:
        skip = max(matches.starting(label, start) for label in ("STRIP", "CONJUNCTIONS", "VERB_MARKERS", "COPULAS",
                                                                "PREFERENCES"))
        if tokens[start].is_punct:
            skip = start + 1
        if skip <= start:
            break
        start = skip
    while end > start and (tokens[end - 1].is_punct or any(matches.starting(label, end - 1) == end for label in trailing)):
        if _closes_bracket(tokens, start, end - 1):
            break
        end -= 1
    return start, end


def _closes_bracket(tokens: list[Token], start: int, index: int) -> bool:
    """Whether the token at ``index`` closes a bracket opened inside the part ("Deutschkenntnisse (mind. B2)")."""
    pairs = {")": "(", "]": "["}
    opener = pairs.get(tokens[index].text)
    return opener is not None and any(token.text == opener for token in tokens[start:index])


def _bare_verb(tokens: list[Token], part: tuple[int, int], matches: Matches, rules: LangRules) -> bool:
    """A one-word part, a verb of a few tagged syllables alone ("Kê khai"), a noun of one word of two tagged
    syllables with no verb tag ("các hoạt động và dự án"), or an action noun with one modifier ("Sezónní
    přezouvání a vyvažování pneumatik"): it has no action or object of its own."""
    verb_pos = rules.data.get("verb_pos", [])
    size = part[1] - part[0]
    modified = size == 2 and matches.starting("DETERMINERS", part[0]) < 0  # "die Terminplanung" is whole
    tags = [tokens[i].pos for i in range(*part)]
    return size <= 1 or (modified and verbal_noun(tokens[part[1] - 1], rules.data)) or (bool(verb_pos) and (
        (size <= 3 and all(tag in verb_pos for tag in tags)) or (size <= 2 and not set(tags) & set(verb_pos))))


def _merge_fragments(parts: list[tuple[int, int]], firm: frozenset[int] = frozenset(),
                     fragment=lambda part: part[1] - part[0] <= 1) -> list[tuple[int, int]]:
    """Fragments (one-word parts) share the object or head of a neighbour ("design, build and maintain X"),
    except a last item that starts at a ``firm`` index (it closes a list of its own)."""
    merged: list[tuple[int, int]] = []
    pending: int | None = None
    for start, end in parts:
        if fragment((start, end)) and not merged:
            pending = start if pending is None else pending
            continue
        if fragment((start, end)) and start not in firm:
            merged[-1] = (merged[-1][0], end)
            continue
        merged.append((pending if pending is not None else start, end))
        pending = None
    if pending is not None:
        merged.append((pending, parts[-1][1]))
    return merged
