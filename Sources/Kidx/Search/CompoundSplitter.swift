/// Splits words with an index's own decompounding lexicon, for `kidx analyze`, evaluation and
/// queries. The parts come back as index terms (stemmed), the form in which they are searched.
public struct CompoundSplitter {
    private let analyzer: GermanAnalyzer
    private let decompounder: GermanDecompounder

    /// A splitter with the lexicon of `reader`'s index.
    public init(reader: IndexReader) {
        self.init(analyzer: reader.makeAnalyzer(), decompounder: reader.decompounder())
    }

    init(analyzer: GermanAnalyzer, decompounder: GermanDecompounder) {
        self.analyzer = analyzer
        self.decompounder = decompounder
    }

    /// The index terms of the finest parts of `word`, or nil when it is not a compound.
    public func split(_ word: String) -> [String]? {
        guard let folded = analyzer.fold(word), let split = decompounder.split(folded) else { return nil }
        return terms(of: split.parts)
    }

    /// The words inside a compound token as tokens of kind `compoundPart`, at the compound's
    /// position, with their bytes in the text (the whole compound's where folding changed lengths).
    public func parts(of token: Token) -> [Token] {
        guard token.kind != .hyphenJoined, let split = decompounder.split(token.word) else { return [] }
        let sameLength = token.word.utf8.count == token.byteRange.count
        return split.pieces.map { piece in
            let range = sameLength ? (token.byteRange.lowerBound + piece.range.lowerBound)..<(token.byteRange.lowerBound + piece.range.upperBound) : token.byteRange
            return Token(term: String(decoding: analyzer.term(ofWord: Array(piece.word.utf8)), as: UTF8.self), word: piece.word,
                         position: token.position, byteRange: range, kind: .compoundPart)
        }
    }

    /// The index terms of words (each analyzed alone).
    public func terms(of words: [String]) -> [String] {
        words.compactMap { word in analyzer.fold(word).map { String(decoding: analyzer.term(ofWord: Array($0.utf8)), as: UTF8.self) } }
    }

    /// How a splitter fares on a gold list.
    public struct Report: Sendable {
        /// Compounds in the list, and how many were split exactly into the expected parts.
        public var compounds = 0, exact = 0, notSplit = 0
        /// Words that must stay whole, and how many were split.
        public var negatives = 0, falseSplits = 0
        /// One line per wrong answer.
        public var mistakes: [String] = []

        /// Share of compounds split exactly right.
        public var accuracy: Double { Double(exact) / Double(max(compounds, 1)) }
        /// Share of non-compounds split.
        public var falseSplitRate: Double { Double(falseSplits) / Double(max(negatives, 1)) }
    }

    /// Scores the splitter on a gold list: `word<TAB>parts<TAB>compound|negative` lines (`#`
    /// starts a comment). Parts are compared as index terms, the way they are searched.
    public func evaluate(goldList: String) -> Report {
        var report = Report()
        for line in goldList.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t").map(String.init)
            guard fields.count >= 3 else { continue }
            let predicted = split(fields[0])
            if fields[2] == "negative" {
                report.negatives += 1
                if let predicted {
                    report.falseSplits += 1
                    report.mistakes.append("false split  \(fields[0]) -> \(predicted.joined(separator: " "))")
                }
                continue
            }
            report.compounds += 1
            let expected = terms(of: fields[1].split(separator: " ").map(String.init))
            if predicted == expected {
                report.exact += 1
            } else {
                if predicted == nil { report.notSplit += 1 }
                report.mistakes.append("wrong        \(fields[0]) -> \(predicted?.joined(separator: " ") ?? "(not split)")   expected \(expected.joined(separator: " "))")
            }
        }
        return report
    }
}
