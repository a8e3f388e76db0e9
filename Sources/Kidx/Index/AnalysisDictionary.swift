import Foundation

/// The index's corpus-wide analysis evidence (`analysis.kdx`): the decompounding lexicon (each
/// word that may be a compound part, with its corpus frequency and whether the system word list
/// has it) and the proper names kept from the stemmer. Every segment is analyzed with it and
/// every query reads it, so a word means the same terms everywhere in the index.
///
/// A term dictionary of two key spaces: `Field.lexiconSpace` (docFreq = frequency << 1 | known)
/// and `Field.nameSpace` (docFreq 1 when the name's term drops a genitive s).
struct AnalysisDictionary {
    let info: AnalysisInfo
    let file: MappedIndexFile
    private let terms: TermDictionary

    init(path: String, info: AnalysisInfo) throws {
        self.info = info
        file = try MappedIndexFile(path: path, kind: .analysis)
        terms = try TermDictionary(file: file)
    }

    /// Writes a lexicon (sorted by word) and names (sorted by key) to `path`.
    static func write(lexicon: [(String, WordEvidence)], names: [ProperNames.Entry], to path: String) throws {
        let file = try IndexFileWriter(path: path, kind: .analysis)
        let dictionary = TermDictionaryWriter(file: file)
        for (word, evidence) in lexicon {
            try dictionary.add(key: Field.key(space: Field.lexiconSpace, word), info: TermInfo(
                docFreq: evidence.frequency << 1 | (evidence.known ? 1 : 0), postingsOffset: 0, positionsOffset: 0, hasPositions: false))
        }
        for name in names {
            try dictionary.add(key: [Field.nameSpace] + name.key, info: TermInfo(docFreq: name.dropsGenitive ? 1 : 0, postingsOffset: 0, positionsOffset: 0, hasPositions: false))
        }
        try dictionary.finish()
        try file.finish()
    }

    /// A word's evidence (by its UTF-8 bytes), when the lexicon has it.
    func evidence(_ word: UnsafeBufferPointer<UInt8>) -> WordEvidence? {
        guard let info = damage.noting({ try terms.lookup([Field.lexiconSpace] + Array(word)) }) else { return nil }
        return WordEvidence(frequency: info.docFreq >> 1, known: info.docFreq & 1 == 1)
    }

    /// Throws the damage a lookup met, if any. The analyzer and the decompounder cannot throw:
    /// a damaged block answers "no such word" to them, and whoever analyzed with this
    /// dictionary (a search, a segment writer) checks here before giving an answer built on it.
    func checkUndamaged() throws {
        if let error = damage.first { throw error }
    }

    private let damage = Damage()

    /// The first error a lookup threw, kept for `checkUndamaged()`.
    private final class Damage: @unchecked Sendable {
        private let lock = NSLock()
        private var error: Error?

        var first: Error? {
            lock.lock()
            defer { lock.unlock() }
            return error
        }

        /// The lookup's answer, or nil when it threw (the error kept).
        func noting(_ lookup: () throws -> TermInfo?) -> TermInfo? {
            do {
                return try lookup()
            } catch {
                lock.lock()
                defer { lock.unlock() }
                if self.error == nil { self.error = error }
                return nil
            }
        }
    }

    /// A decompounder that splits as the build did, remembering its splits (for searches).
    func decompounder() -> GermanDecompounder {
        GermanDecompounder(evidence: evidence, hasWordList: info.wordList != nil, thresholds: info.partThresholds, remembering: true)
    }

    /// Makes decompounders like `decompounder()` that read the lexicon from a table in memory,
    /// for segment writers splitting every distinct word: a lookup in the file for each
    /// candidate piece cost several times the splitting itself. The table is read on the first
    /// call and shared by every segment a writer finishes with this dictionary.
    func decompounderReadingMemory() throws -> () -> GermanDecompounder {
        let table = try lexiconCache.table { try readLexicon() }
        let hasWordList = info.wordList != nil, thresholds = info.partThresholds
        return { table.decompounder(hasWordList: hasWordList, thresholds: thresholds) }
    }

    private func readLexicon() throws -> LexiconTable {
        var table = LexiconTable(capacity: info.lexiconWords)
        try terms.forEach(withPrefix: [Field.lexiconSpace]) { key, info in
            table.add(UnsafeRawBufferPointer(rebasing: key.dropFirst()).assumingMemoryBound(to: UInt8.self),
                      WordEvidence(frequency: info.docFreq >> 1, known: info.docFreq & 1 == 1))
            return true
        }
        return table
    }

    /// The lexicon as a table in memory, read once (searches never ask for it).
    private final class LexiconCache {
        private let lock = NSLock()
        private var contents: LexiconTable?

        func table(_ read: () throws -> LexiconTable) rethrows -> LexiconTable {
            lock.lock()
            defer { lock.unlock() }
            if let contents { return contents }
            let read = try read()
            contents = read
            return read
        }
    }
    private let lexiconCache = LexiconCache()

    /// The term of a folded word when it is a recorded name; nil when the index has no names.
    /// One per analyzer. `remembering` keeps answers, for snippets, which ask for every word of
    /// a text; a build asks once per distinct word, and keeping them cost more than the lookups
    /// (a 3,000-article build in parts: 385 M instructions hashing, storing and growing).
    func nameLookup(remembering: Bool = true) -> (([UInt8]) -> [UInt8]?)? {
        guard info.names > 0 else { return nil }
        let terms = terms, damage = damage
        func lookup(_ word: [UInt8]) -> [UInt8]? {
            var key = word
            SpellingVariants.stripUmlauts(&key)
            let found = damage.noting { try terms.lookup([Field.nameSpace] + key) }
            return found.map { ProperNames.Entry(key: key, dropsGenitive: $0.docFreq == 1).term }
        }
        guard remembering else { return lookup }
        final class Memo { var terms: [[UInt8]: [UInt8]?] = [:] }
        let memo = Memo()
        return { word in
            if let known = memo.terms[word] { return known }
            let term = lookup(word)
            if memo.terms.count >= 50_000 { memo.terms.removeAll() }
            memo.terms[word] = .some(term)
            return term
        }
    }

    /// Checks the file and decodes every entry.
    func verify() throws {
        try file.verifyChecksum()
        var lexicon = 0, names = 0
        try terms.forEachEntry { key, _ in
            switch key.first {
            case Field.lexiconSpace: lexicon += 1
            case Field.nameSpace: names += 1
            default: throw KidxError.corruptIndex(file: file.name, reason: "entry in key space \(key.first ?? 0)")
            }
        }
        guard lexicon == info.lexiconWords, names == info.names else {
            throw KidxError.corruptIndex(file: file.name, reason: "\(lexicon) lexicon words and \(names) names, the manifest says \(info.lexiconWords) and \(info.names)")
        }
    }
}

/// A decompounding lexicon in memory: each word's evidence, found by its bytes without making a
/// string (about 50 bytes a word: 10 MB for FANG's 214,000).
///
/// Most lookups are of no word at all (every piece of every candidate split is looked up), and
/// the table of a large lexicon does not fit a core's cache: each such lookup waited on memory.
/// A Bloom filter of about a byte per word, which does fit, answers most of them first.
struct LexiconTable {
    private var words = WordInterner()
    private var evidence: [WordEvidence] = []
    /// One 64-bit word per hash (a "register-blocked" Bloom filter): three bits of it per word.
    private var filter: [UInt64]

    /// An empty table sized for about `capacity` words (more may be added, with more false
    /// positives of the filter; a capacity read from a damaged file cannot ask for more than 16 MB).
    init(capacity: Int) {
        let wanted = max(min(capacity, 1 << 24) / 8, 64)
        filter = [UInt64](repeating: 0, count: 1 << (Int.bitWidth - (wanted - 1).leadingZeroBitCount))
    }

    /// Adds a word (its UTF-8 bytes; new to the table) with its evidence.
    mutating func add(_ word: UnsafeBufferPointer<UInt8>, _ found: WordEvidence) {
        _ = words.intern(word)
        evidence.append(found)
        let (index, bits) = filterBits(WordInterner.hash(word))
        filter[index] |= bits
    }

    /// The evidence of a word, or nil when it is not in the table.
    func evidence(_ word: UnsafeBufferPointer<UInt8>) -> WordEvidence? {
        let hash = WordInterner.hash(word)
        let (index, bits) = filterBits(hash)
        guard filter[index] & bits == bits else { return nil }
        return words.id(of: word, hash: hash).map { evidence[$0] }
    }

    /// The filter word and bits of a hash: from its high half (the table slots by the low half).
    @inline(__always)
    private func filterBits(_ hash: UInt64) -> (index: Int, bits: UInt64) {
        let high = hash >> 32
        let bits: UInt64 = 1 << (high & 63) | 1 << ((high >> 6) & 63) | 1 << ((high >> 12) & 63)
        return (Int(truncatingIfNeeded: high >> 18) & (filter.count - 1), bits)
    }

    /// A decompounder that looks words up in this table.
    func decompounder(hasWordList: Bool, thresholds: GermanDecompounder.Thresholds) -> GermanDecompounder {
        GermanDecompounder(evidence: { [self] in evidence($0) }, hasWordList: hasWordList, thresholds: thresholds)
    }
}
