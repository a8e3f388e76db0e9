/// Splits words with an index's own decompounding lexicon, for `kidx analyze`, evaluation and
/// queries. The parts come back as index terms (stemmed), the form in which they are searched.
public struct CompoundSplitter {
    private let analyzer: GermanAnalyzer
    private let decompounder: GermanDecompounder

    /// A splitter with the lexicon of `reader`'s index.
    public init(reader: IndexReader) {
        analyzer = GermanAnalyzer(options: reader.analyzerOptions)
        decompounder = reader.decompounder()
    }

    /// The index terms of the finest parts of `word`, or nil when it is not a compound.
    public func split(_ word: String) -> [String]? {
        guard let folded = analyzer.fold(word), let split = decompounder.split(folded) else { return nil }
        return terms(of: split.parts)
    }

    /// The index terms of words (each analyzed alone).
    public func terms(of words: [String]) -> [String] {
        words.compactMap { word in analyzer.fold(word).map { String(decoding: analyzer.term(ofWord: Array($0.utf8)), as: UTF8.self) } }
    }
}
