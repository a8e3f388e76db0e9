/// Proper names the stemmer must leave alone: Snowball reads `Söder` as `sod`, `Drosten` as
/// `drost`, `Biden` as `bid` and `Wieler` as `wiel`, which merges names with unrelated words
/// and shows mangled terms. A build finds its corpus's names and records them in the index, so
/// queries keep the same words whole.
///
/// A name is a word the system word list lacks, that the corpus writes capitalized (at least
/// nine times in ten: German capitalizes every noun, but verbs and adjectives start a sentence
/// only now and then), that is no compound of known words, and whose stem differs from it. Its
/// term is the word without umlauts (so `Soeder`, `Söder` and `Soder` meet, as stems do), with a
/// genitive `s` removed when the corpus has the name without it (`Drostens` → `drosten`); the
/// genitive of every name is recorded too, for queries that use one the corpus lacks.
/// Without a system word list nothing is a name: the corpus alone cannot tell names from nouns.
struct ProperNames {
    /// The key space entry of a name: its umlaut-free form, and whether its term drops a final `s`.
    struct Entry: Equatable {
        var key: [UInt8]
        var dropsGenitive: Bool

        /// The name's index term.
        var term: [UInt8] { dropsGenitive ? Array(key.dropLast()) : key }
    }

    /// Names by their umlaut-free form, in byte order.
    private(set) var entries: [Entry] = []
    private var terms: [[UInt8]: [UInt8]] = [:]

    /// No names.
    init() {}

    /// The names among the words of a corpus.
    /// - Parameters:
    ///   - words: every distinct folded word with its uses and capitalized uses.
    ///   - systemWords: the folded system word list (nil: no names).
    ///   - compounds: those of the words given that the decompounder splits.
    ///   - stem: the index term of a word without name protection.
    init(words: [String: (uses: Int, capitalized: Int)], systemWords: Set<String>?, compounds: ([String]) -> Set<String>, stem: ([UInt8]) -> [UInt8]) {
        guard let systemWords else { return }
        func isCapitalizedUnlisted(_ word: String, _ counts: (uses: Int, capitalized: Int)) -> Bool {
            counts.capitalized * 10 >= counts.uses * 9 && !systemWords.contains(word)
        }
        // A compound of known words is no name: the decompounder is asked once, for every word
        // that could be one.
        let capitalizedUnlisted = words.compactMap { isCapitalizedUnlisted($0.key, $0.value) ? $0.key : nil }
        let compoundWords = compounds(capitalizedUnlisted)
        // Decided once per word, and looked up after: a word is asked about up to four times
        // below (ProperNames.init on 3,000 articles: 1,290.5 M instructions before, 1,108.2 M after).
        let nameLike = Set(capitalizedUnlisted.filter { word in
            // `Infektions-` (a modifier with its linking s, written before a hyphen) is a known word's form.
            let linked = word.hasSuffix("s") && systemWords.contains(String(word.dropLast()))
            return !compoundWords.contains(word) && !linked
        })
        func isNameLike(_ word: String) -> Bool { nameLike.contains(word) }
        // A name is looked up without umlauts; where another word reads the same without them
        // (`Hauser` and `Häuser`, `Schüle` and `Schule`), that word keeps its stem and the name
        // goes unprotected.
        var otherKeys = Set<[UInt8]>()
        for word in systemWords where word.utf8.contains(0xC3) {
            var key = Array(word.utf8)
            SpellingVariants.stripUmlauts(&key)
            otherKeys.insert(key)
        }
        for word in words.keys where word.utf8.contains(0xC3) && !isNameLike(word) {
            var key = Array(word.utf8)
            SpellingVariants.stripUmlauts(&key)
            otherKeys.insert(key)
        }
        func isTaken(_ key: [UInt8]) -> Bool {
            let plain = String(decoding: key, as: UTF8.self)
            return otherKeys.contains(key) || systemWords.contains(plain) || (words[plain] != nil && !isNameLike(plain))
        }
        var bare: [String] = []  // names recorded without a genitive s
        // In byte order: where two names read the same without umlauts, the first one wins, the
        // same one in every build (a dictionary's order changes from process to process).
        let candidates = nameLike.filter { $0.utf8.count >= 3 && GermanAnalyzer.isAllLetters($0) }
        for word in candidates.sorted(by: ByteOrder.precedes) {
            var key = Array(word.utf8)
            SpellingVariants.stripUmlauts(&key)
            let dropsGenitive = word.hasSuffix("s") && isNameLike(String(word.dropLast()))
            let entry = Entry(key: key, dropsGenitive: dropsGenitive)
            // Only names the stemmer would change need recording.
            guard stem(Array(word.utf8)) != entry.term, terms[key] == nil, !isTaken(key) else { continue }
            terms[key] = entry.term
            entries.append(entry)
            if !dropsGenitive { bare.append(word) }
        }
        // A query may use a genitive the corpus never wrote (`Bidens`).
        for word in bare where words[word + "s"] == nil && !systemWords.contains(word + "s") {
            var key = Array((word + "s").utf8)
            SpellingVariants.stripUmlauts(&key)
            guard terms[key] == nil, !isTaken(key) else { continue }
            let entry = Entry(key: key, dropsGenitive: true)
            terms[key] = entry.term
            entries.append(entry)
        }
        entries.sort { ByteOrder.precedes($0.key, $1.key) }
    }

    /// The term of a folded word when it is a name (a lookup for the build).
    func term(of word: [UInt8]) -> [UInt8]? {
        guard !terms.isEmpty else { return nil }
        var key = word
        SpellingVariants.stripUmlauts(&key)
        return terms[key]
    }

    /// Whether the first letter of a word as written is a capital (ASCII or Latin-1, which
    /// covers German; other scripts count as lowercase).
    static func isCapitalized(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        let first = bytes[offset]
        if first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") { return true }
        // U+00C0…U+00DE (À…Þ, with Ä Ö Ü) are C3 80…C3 9E in UTF-8.
        return first == 0xC3 && offset + 1 < bytes.count && bytes[offset + 1] >= 0x80 && bytes[offset + 1] <= 0x9E
    }
}
