/// German function words that carry no topic: articles, pronouns, prepositions, conjunctions,
/// auxiliaries and particles. kidx's own list, in case-folded form (`ß` as `ss`).
///
/// Stop words are indexed (they help ranking) but their terms' lists have no positions: a phrase
/// reads a stop word as any word at its place, so `"Mangel an Impfstoff"` keeps its distances.
/// With stop-word removal on, they are not indexed at all and still take a position.
enum GermanStopWords {
    static let words: Set<String> = [
        // articles and determiners
        "der", "die", "das", "des", "dem", "den", "ein", "eine", "einer", "eines", "einem", "einen",
        "dieser", "diese", "dieses", "diesem", "diesen", "jener", "jene", "jenes", "jenem", "jenen",
        "welcher", "welche", "welches", "welchem", "welchen", "kein", "keine", "keiner", "keines",
        "keinem", "keinen", "jeder", "jede", "jedes", "jedem", "jeden",
        // pronouns
        "ich", "du", "er", "sie", "es", "wir", "ihr", "mich", "mir", "dich", "dir", "ihn", "ihm",
        "ihnen", "uns", "euch", "sich", "man", "mein", "meine", "meiner", "meinem", "meinen",
        "dein", "deine", "sein", "seine", "seiner", "seines", "seinem", "seinen", "ihre", "ihrer",
        "ihres", "ihrem", "ihren", "unser", "unsere", "unserer", "unserem", "unseren", "euer", "eure",
        "wer", "wen", "wem", "wessen", "was", "etwas", "nichts", "selbst",
        // prepositions and their contractions
        "in", "im", "ins", "an", "am", "ans", "auf", "aus", "bei", "beim", "mit", "nach", "von", "vom",
        "zu", "zum", "zur", "für", "über", "unter", "vor", "hinter", "neben", "zwischen", "durch",
        "gegen", "ohne", "um", "bis", "seit", "ab", "trotz", "wegen", "während",
        // conjunctions and subordinators
        "und", "oder", "aber", "doch", "sondern", "denn", "dass", "ob", "wenn", "weil", "als", "wie",
        "so", "sowie", "sowohl", "weder", "noch", "damit", "obwohl", "falls", "bevor", "nachdem",
        // auxiliaries and modals
        "ist", "sind", "war", "waren", "bin", "bist", "seid", "wäre", "wären", "gewesen",
        "hat", "haben", "hatte", "hatten", "habe", "hast", "hätte", "hätten", "gehabt",
        "wird", "werden", "wurde", "wurden", "worden", "würde", "würden", "werde",
        "kann", "können", "konnte", "konnten", "könnte", "könnten",
        "muss", "müssen", "musste", "mussten", "soll", "sollen", "sollte", "sollten",
        "will", "wollen", "wollte", "wollten", "darf", "dürfen",
        // adverbs and particles
        "auch", "nur", "schon", "nicht", "sehr", "mehr", "noch", "immer", "wieder", "dann", "da",
        "dort", "hier", "wo", "nun", "ja", "nein", "eben", "etwa", "zwar", "also", "bereits", "dabei",
        "dafür", "dazu", "darauf", "daran", "davon", "darüber", "denen", "deren", "dessen", "einmal",
        "ganz", "gar", "jetzt", "mal", "oft", "sogar", "viel", "viele", "vielen", "alle", "allen",
        "aller", "alles", "andere", "anderen", "anderer", "anderes", "einige", "einigen", "mehrere",
    ]
}
