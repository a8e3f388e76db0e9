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
    private let termBytes: [[UInt8]]

    init(analyzer: GermanAnalyzer, decompounder: GermanDecompounder?, terms: Set<String>) {
        self.analyzer = analyzer
        self.decompounder = decompounder
        self.terms = terms
        termBytes = terms.map { Array($0.utf8) }
    }
    /// About how long a snippet is, in bytes of UTF-8 (German text: roughly as many characters).
    static let snippetLength = 220

    /// Byte ranges of `text` whose analyzed term is a query term; a joined hyphenated word that
    /// matches covers its parts.
    func matches(in text: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        func add(_ range: Range<Int>) {
            if let last = ranges.last, last.upperBound >= range.lowerBound, range.upperBound >= last.lowerBound {
                ranges[ranges.count - 1] = min(last.lowerBound, range.lowerBound)..<max(last.upperBound, range.upperBound)
            } else {
                ranges.append(range)
            }
        }
        var text = text
        text.withUTF8 { utf8 in
            analyzer.forEachWord(inUTF8: utf8) { word, _, range, _ in
                let folded = Array(word)
                if terms.contains(String(decoding: analyzer.term(ofWord: folded), as: UTF8.self)) {
                    add(range)
                    return
                }
                // Folding keeps German text's byte lengths (`ß`→`ss`, `ae`→`ä`), so a part's bytes in
                // the folded word are its bytes in the text; where it does not, mark the whole word.
                guard let decompounder, folded.count >= GermanDecompounder.minimumCompound,
                      mayContainTerm(folded), let split = decompounder.split(String(decoding: folded, as: UTF8.self)) else { return }
                for piece in split.pieces where terms.contains(String(decoding: analyzer.term(ofWord: Array(piece.word.utf8)), as: UTF8.self)) {
                    add(folded.count == range.count ? (range.lowerBound + piece.range.lowerBound)..<(range.lowerBound + piece.range.upperBound) : range)
                }
            }
        }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
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


    /// The passage of about `snippetLength` bytes with the most distinct matched words (earliest
    /// on ties), cut at spaces.
    func snippet(of text: String) -> Snippet {
        let bytes = Array(text.utf8)
        let found = matches(in: text)
        var start = 0
        if !found.isEmpty {
            var bestCount = -1
            for candidate in found {
                let windowStart = max(0, candidate.lowerBound - 40)
                let inWindow = found.filter { $0.lowerBound >= windowStart && $0.upperBound <= windowStart + Self.snippetLength }
                let distinct = Set(inWindow.map { bytes[$0] }).count
                if distinct > bestCount {
                    bestCount = distinct
                    start = windowStart
                }
            }
        }
        var end = min(bytes.count, start + Self.snippetLength)
        // Cut at spaces so no word (and no UTF-8 sequence) is split.
        if start > 0 {
            while start < bytes.count, bytes[start - 1] != 0x20, bytes[start - 1] != 0x0A { start += 1 }
        }
        if end < bytes.count {
            var cut = end
            while cut > start, bytes[cut] != 0x20, bytes[cut] != 0x0A { cut -= 1 }
            if cut > start { end = cut }
        }
        var output: [UInt8] = []
        let prefix = start > 0 ? Array("… ".utf8) : []
        output.append(contentsOf: prefix)
        output.append(contentsOf: bytes[start..<max(start, end)].map { $0 == 0x0A || $0 == 0x0D || $0 == 0x09 ? 0x20 : $0 })
        if end < bytes.count { output.append(contentsOf: Array(" …".utf8)) }
        let shift = prefix.count - start
        let highlights = found.filter { $0.lowerBound >= start && $0.upperBound <= end }.map { ($0.lowerBound + shift)..<($0.upperBound + shift) }
        return Snippet(text: String(decoding: output, as: UTF8.self), highlights: highlights)
    }
}
