/// A passage of a document with the words that matched the query marked.
public struct Snippet: Sendable, Hashable {
    /// The passage, line breaks turned into spaces, with `…` where it was cut.
    public var text: String
    /// The matched words, as UTF-8 byte ranges of `text`.
    public var highlights: [Range<Int>]

    /// Creates a snippet.
    public init(text: String, highlights: [Range<Int>]) {
        self.text = text
        self.highlights = highlights
    }

    /// The matched words as ranges of Unicode scalars (code points) of `text`, for consumers
    /// that count characters rather than bytes.
    public var scalarHighlights: [Range<Int>] {
        let bytes = Array(text.utf8)
        func scalarOffset(_ byte: Int) -> Int {
            bytes[0..<byte].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        }
        return highlights.map { scalarOffset($0.lowerBound)..<scalarOffset($0.upperBound) }
    }
}

/// Finds where query terms occur in stored text and picks the best passage to show.
struct Highlighter {
    let analyzer: GermanAnalyzer
    /// Finds query terms inside compounds (`Fußball**trikot**`); nil without decompounding.
    let decompounder: GermanDecompounder?
    let terms: Set<String>
    /// The query terms' bytes, to test words before stemming them.
    private let queryTermBytes: [[UInt8]]
    /// The query terms that can be compound parts.
    private let termBytes: [[UInt8]]
    /// Whether a folded word's term is a query term, by word, over every text this highlighter
    /// reads: texts repeat most of their words, and stemming each use took a third of a
    /// `kidx search`'s instructions.
    private let wordMatches = WordMatches()
    private final class WordMatches { var known: [[UInt8]: Bool] = [:] }

    init(analyzer: GermanAnalyzer, decompounder: GermanDecompounder?, terms: Set<String>) {
        self.analyzer = analyzer
        self.decompounder = decompounder
        self.terms = terms
        queryTermBytes = terms.map { Array($0.utf8) }
        // Only terms that can be compound parts send a word to the splitter: never function
        // words or terms shorter than a part (`in` is inside half the words of a text).
        termBytes = terms.filter { $0.unicodeScalars.count >= GermanDecompounder.minimumPart && !GermanStopWords.words.contains($0) }
            .map { Array($0.utf8) }
    }
    /// About how long a snippet is, in bytes of UTF-8 (German text: roughly as many characters).
    static let snippetLength = 220

    /// Byte ranges of `text` whose analyzed term is a query term; a joined hyphenated word that
    /// matches covers its parts.
    func matches(in text: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var text = text
        text.withUTF8 { utf8 in
            analyzer.forEachWord(inUTF8: utf8) { word, _, range, _ in
                let folded = Array(word)
                let matches = wordMatches.known[folded] ?? {
                    let found = mayHaveQueryTerm(folded) && terms.contains(String(decoding: analyzer.term(ofWord: folded), as: UTF8.self))
                    wordMatches.known[folded] = found
                    return found
                }()
                if matches {
                    ranges.append(range)
                    return
                }
                // Folding keeps German text's byte lengths (`ß`→`ss`, `ae`→`ä`), so a part's bytes in
                // the folded word are its bytes in the text; where it does not, mark the whole word.
                guard let decompounder, folded.count >= GermanDecompounder.minimumCompound,
                      mayContainTerm(folded), let split = decompounder.split(String(decoding: folded, as: UTF8.self)) else { return }
                for piece in split.pieces where terms.contains(String(decoding: analyzer.term(ofWord: Array(piece.word.utf8)), as: UTF8.self)) {
                    ranges.append(folded.count == range.count ? (range.lowerBound + piece.range.lowerBound)..<(range.lowerBound + piece.range.upperBound) : range)
                }
            }
        }
        // A joined hyphenated word covers its parts: overlapping ranges become one.
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// A cheap test before stemming a word: a word's term is a prefix of the word or of the word
    /// without umlauts (see `GermanAnalyzer.term(ofWord:)`), so a word that starts with no query
    /// term cannot have one. Stemming ten articles' words and looking them up among the names
    /// took a sixth of a `kidx search`'s instructions, for the few words that start right.
    private func mayHaveQueryTerm(_ folded: [UInt8]) -> Bool {
        var plain = folded
        SpellingVariants.stripUmlauts(&plain)
        return queryTermBytes.contains { folded.starts(with: $0) || plain.starts(with: $0) }
    }

    /// A cheap test before splitting a word: does it contain a query term's letters? (Stems are
    /// prefixes of their words once umlauts are stripped, as the stemmer strips them.)
    private func mayContainTerm(_ folded: [UInt8]) -> Bool {
        var plain = folded
        SpellingVariants.stripUmlauts(&plain)
        return termBytes.contains { term in
            term.count <= plain.count && (0...(plain.count - term.count)).contains { plain[$0..<($0 + term.count)].elementsEqual(term) }
        }
    }


    /// The passage of about `snippetLength` bytes with the most distinct matched words; when
    /// the query's words stand apart, up to `maximumFragments` shorter passages around the
    /// matches that add the most words not yet shown, joined by `…`. Passages are cut at spaces.
    func snippet(of text: String) -> Snippet {
        let bytes = Array(text.utf8)
        let found = matches(in: text)
        // Matches count as the same word when they have the same index term (`Nordkoreas`, `Nordkorea`).
        let words = found.map { range in
            analyzer.fold(String(decoding: bytes[range], as: UTF8.self)).map { analyzer.term(ofWord: Array($0.utf8)) } ?? Array(bytes[range])
        }
        let allWords = Set(words)
        /// The distinct matched words of the window starting at `start`.
        func wordsIn(_ start: Int, length: Int) -> Set<[UInt8]> {
            Set(found.indices.filter { found[$0].lowerBound >= start && found[$0].upperBound <= start + length }.map { words[$0] })
        }
        var length = Self.snippetLength
        // A window starts a little before its match, so the match has some context on the left.
        func windowStart(_ match: Range<Int>) -> Int { max(0, match.lowerBound - length / 5) }

        // One long passage when it shows every word; otherwise greedy shorter fragments.
        var starts: [Int] = []
        // The window showing the most distinct words (the earliest of equals), each counted once.
        let single = found.map { match -> (start: Int, words: Int) in
            let start = windowStart(match)
            return (start, wordsIn(start, length: length).count)
        }.max { $0.words < $1.words }
        if let single, single.words < allWords.count {
            length = Self.snippetLength * 11 / 10 / Self.maximumFragments
            var shown = Set<[UInt8]>()
            while starts.count < Self.maximumFragments, shown.count < allWords.count {
                // Windows are compared by the words they add; ties go to the earlier window.
                var best: (start: Int, added: Int)?
                for (match, word) in zip(found, words) where !shown.contains(word) {
                    let start = windowStart(match)
                    let added = wordsIn(start, length: length).subtracting(shown).count
                    if best == nil || added > best!.added { best = (start, added) }
                }
                guard let best else { break }
                starts.append(best.start)
                shown.formUnion(wordsIn(best.start, length: length))
            }
        } else {
            starts = [single?.start ?? 0]
        }
        // Fragments in text order, cut at spaces, overlapping ones merged.
        var fragments: [Range<Int>] = []
        for start in starts.sorted() {
            var from = start, to = min(bytes.count, start + length)
            if from > 0 {
                while from < bytes.count, bytes[from - 1] != 0x20, bytes[from - 1] != 0x0A { from += 1 }
            }
            if to < bytes.count {
                var cut = to
                while cut > from, bytes[cut] != 0x20, bytes[cut] != 0x0A { cut -= 1 }
                if cut > from { to = cut }
            }
            guard from < to else { continue }
            if let last = fragments.last, from <= last.upperBound {
                fragments[fragments.count - 1] = last.lowerBound..<max(last.upperBound, to)
            } else {
                fragments.append(from..<to)
            }
        }
        if fragments.isEmpty { fragments = [0..<min(bytes.count, length)] }

        var output: [UInt8] = []
        var highlights: [Range<Int>] = []
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { output.append(contentsOf: Array(" … ".utf8)) } else if fragment.lowerBound > 0 { output.append(contentsOf: Array("… ".utf8)) }
            let shift = output.count - fragment.lowerBound
            output.append(contentsOf: bytes[fragment].map { $0 == 0x0A || $0 == 0x0D || $0 == 0x09 ? 0x20 : $0 })
            highlights += found.filter { $0.lowerBound >= fragment.lowerBound && $0.upperBound <= fragment.upperBound }.map { ($0.lowerBound + shift)..<($0.upperBound + shift) }
        }
        if let last = fragments.last, last.upperBound < bytes.count { output.append(contentsOf: Array(" …".utf8)) }
        return Snippet(text: String(decoding: output, as: UTF8.self), highlights: highlights)
    }

    /// At most this many passages make a snippet.
    static let maximumFragments = 3
}
