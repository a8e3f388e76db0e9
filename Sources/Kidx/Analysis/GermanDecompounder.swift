import Foundation

/// What the decompounder knows about a word: how often the corpus uses it, and whether the
/// system's German word list has it.
struct WordEvidence: Equatable {
    var frequency: Int
    var known: Bool
}

/// Splits German compounds into the words they are made of: `atomwaffentests` → `atom`,
/// `waffen`, `tests`; `bundesregierung` → `bund`, `regierung`; `impfstoffmangel` →
/// `impfstoff` (`impf`, `stoff`), `mangel`.
///
/// Works on folded words (case-folded, `ae` read as `ä`). A part must be a real word in its own
/// right: in the system word list and used in the corpus, or, without the list, frequent in the
/// corpus. Linking elements (`s`, `es`, `n`, `en`, `e`, `er`, `ns`) are dropped, a dropped `e`
/// restored (`schulbus` → `schule`), a verb stem read through its infinitive (`impf` → `impfen`).
/// Among the ways to split, the one whose parts are most frequent (geometric mean) wins, as in
/// Koehn and Knight (2003). Derivational endings (`-schaft`, `-ung`, `-ion`) and function words
/// never become parts, so `Mitgliedschaft` and `Sanktion` stay whole.
final class GermanDecompounder {
    /// A split: every word found in the compound, with where it stands.
    struct Split: Equatable {
        /// One word of a compound.
        struct Piece: Equatable {
            /// The word as a lexicon word (linking element dropped, `e` restored): `regierung`.
            var word: String
            /// Its bytes in the compound, linking element included.
            var range: Range<Int>
            /// False for an intermediate compound that is split further (`impfstoff`).
            var isFinest: Bool
        }

        /// All pieces, finest and intermediate, in order of their start.
        var pieces: [Piece]
        /// The first-level split: modifier and head (`impfstoff`, `mangel`).
        var top: [String]

        /// The words a compound is made of, finest level, in order (`impf`, `stoff`, `mangel`).
        var parts: [String] { pieces.filter(\.isFinest).map(\.word) }
        /// Intermediate compounds that are words themselves (`impfstoff`).
        var intermediate: [String] { pieces.filter { !$0.isFinest }.map(\.word) }
    }

    /// Looks a folded word up by its UTF-8 bytes.
    let evidence: (UnsafeBufferPointer<UInt8>) -> WordEvidence?
    /// Whether a system word list backs the evidence (then unknown words need more corpus use).
    let hasWordList: Bool
    /// A modifier form with a restored ending, assembled for its lookup.
    private var formBytes: [UInt8] = []
    /// `bestSplit`'s tables, kept between words: made afresh for every word, their arrays'
    /// generic metadata was looked up under a runtime-wide lock, which two splitting threads
    /// fought over.
    private var scratch = BestSplitTables()

    /// How often the corpus must use a word for it to be a part.
    struct Thresholds: Codable, Equatable {
        /// For a word the system list has: 2 on a large corpus (one use may be a typo or a
        /// name), 1 on a middling one, none on a small one (a few articles cannot attest
        /// their words: there the list alone decides).
        var listed: Int
        /// For a word it lacks (`Corona`, new coinages): frequent in its own right, relative
        /// to the corpus size (100 uses on 2 million words and more, at least 3).
        var unlisted: Int

        /// The thresholds for a corpus of `words` words.
        init(corpusWords words: Int) {
            listed = words >= 1_000_000 ? 2 : (words >= 100_000 ? 1 : 0)
            unlisted = max(3, min(100, words / 20_000))
        }
    }

    let thresholds: Thresholds

    /// Splits made, by word, where the decompounder remembers them: a searcher meets the same
    /// words again and again, a build each word once.
    private var remembered: [String: Split?]?
    /// Words remembered at most; the memory is emptied when full.
    static let rememberedLimit = 10_000

    /// A decompounder that looks words up with `evidence`, `remembering` its splits or not.
    init(evidence: @escaping (UnsafeBufferPointer<UInt8>) -> WordEvidence?, hasWordList: Bool, thresholds: Thresholds, remembering: Bool = false) {
        self.evidence = evidence
        self.hasWordList = hasWordList
        self.thresholds = thresholds
        remembered = remembering ? [:] : nil
    }

    /// A decompounder that looks words up as strings (each lookup makes one).
    convenience init(wordEvidence: @escaping (String) -> WordEvidence?, hasWordList: Bool, thresholds: Thresholds) {
        self.init(evidence: { wordEvidence(String(decoding: $0, as: UTF8.self)) }, hasWordList: hasWordList, thresholds: thresholds)
    }

    static let minimumPart = 3
    static let minimumCompound = 7

    /// Words that end or start many words without being their parts.
    private static let neverParts: Set<String> = [
        "schaft", "schaften", "ion", "ionen", "ung", "ungen", "heit", "keit", "tum", "nis", "isch", "lich", "ling",
        "chen", "lein", "ismus", "ist", "isten", "tät", "ier", "ieren", "iert", "erin", "innen", "ern", "end", "ende",
        "bar", "sam", "haft", "los", "ige", "igen", "ische", "ischen", "licher", "liche", "lichen", "ver", "ent", "zer",
        "miss", "mit", "zur", "zum", "ans", "ins", "ums", "rin", "ter", "ten", "tes", "ens", "ste", "sten", "ster",
    ]

    /// The byte tables a split reads for every candidate, built for each decompounder: shared
    /// arrays are retained and released on every read, and with one decompounder per thread
    /// those atomic counts made two threads split no faster than one (a FANG build's parts:
    /// 1.3 s each with one thread or two).
    private struct Tables {
        /// The never-parts and the stop words, looked up by bytes (no string made per candidate).
        let excludedParts: WordInterner
        /// Heads no compound has: `-schaft`, `-heit`, `-keit` in any inflection end words.
        let suffixHeads: [[UInt8]]
        /// Linking elements a modifier may end in (`Gesundheit|s|amt`).
        let linkingElements: [[UInt8]]
        /// Endings restored to a modifier: a dropped `e` (`schul|bus` → `schule`), a verb
        /// stem's infinitive (`impf|stoff` → `impfen`).
        let restoredEndings: [[UInt8]]
        /// Modifiers ending like this always take a linking `s` (`Gesundheitsamt`,
        /// `Ordnungsamt`): an `s` after them belongs to the link, not to the head (`samt`).
        let sLinkedEndings: [[UInt8]]

        init() {
            var excluded = WordInterner()
            for var word in GermanDecompounder.neverParts.union(GermanStopWords.words) { _ = word.withUTF8 { excluded.intern($0) } }
            excludedParts = excluded
            // Arrays made from the literals here, not copies of static ones (which share storage).
            suffixHeads = ["schaft", "heit", "keit"].map { Array($0.utf8) }
            linkingElements = ["s", "es", "n", "en", "e", "er", "ns", "ens"].map { Array($0.utf8) }
            restoredEndings = ["e", "en"].map { Array($0.utf8) }
            sLinkedEndings = ["ung", "heit", "keit", "schaft", "ion", "tät", "ität", "ling", "tum"].map { Array($0.utf8) }
        }
    }

    private let tables = Tables()

    /// Letters in a folded word: its Unicode scalars (counting Characters would segment graphemes,
    /// which is slow and, for folded German, gives the same number).
    static func letters(_ word: String) -> Int { word.unicodeScalars.count }

    /// Letters in a folded word's UTF-8 bytes: the bytes that start a scalar.
    private static func letters(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        for byte in bytes where byte & 0xC0 != 0x80 { count += 1 }
        return count
    }

    /// Splits `word`, or returns nil when it is not a compound of known words.
    func split(_ word: String) -> Split? {
        guard remembered != nil else { return makeSplit(word) }
        if let known = remembered![word] { return known }
        if remembered!.count >= Self.rememberedLimit { remembered!.removeAll(keepingCapacity: true) }
        let split = makeSplit(word)
        remembered![word] = .some(split)
        return split
    }

    /// Splits `word` afresh.
    private func makeSplit(_ word: String) -> Split? {
        guard Self.letters(word) >= Self.minimumCompound else { return nil }
        let bytes = Array(word.utf8)
        return bytes.withUnsafeBufferPointer { bytes -> Split? in
            guard let best = bestSplit(bytes) else { return nil }
            var pieces: [Split.Piece] = []
            collect(best, of: bytes, offset: 0, into: &pieces)
            guard pieces.filter(\.isFinest).count >= 2 else { return nil }
            let top = [String(decoding: modifier(of: best, in: bytes), as: UTF8.self), String(decoding: bytes[best.cut...], as: UTF8.self)]
            return Split(pieces: pieces.sorted { $0.range.lowerBound < $1.range.lowerBound }, top: top)
        }
    }

    /// A binary split: modifier (a word) and head (a word, or itself split). The modifier is the
    /// bytes before `modifierEnd` with `restoredEnding` (an index into `restoredEndings`)
    /// appended; the head is the bytes from `cut` on.
    private struct Candidate {
        var cut: Int
        var modifierEnd: Int
        var restoredEnding: Int?
        var score: Double
    }

    /// The modifier's bytes of a split of `word`.
    private func modifier(of candidate: Candidate, in word: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var bytes = Array(word[..<candidate.modifierEnd])
        if let ending = candidate.restoredEnding { bytes += tables.restoredEndings[ending] }
        return bytes
    }

    /// Appends the pieces of `candidate`, a split of `word`, whose bytes start at `offset` in
    /// the compound being split.
    private func collect(_ candidate: Candidate, of word: UnsafeBufferPointer<UInt8>, offset: Int, into pieces: inout [Split.Piece]) {
        let modifier = modifier(of: candidate, in: word)
        let head = Array(word[candidate.cut...])
        let sides = [(modifier, offset..<(offset + candidate.cut)), (head, (offset + candidate.cut)..<(offset + word.count))]
        for (side, range) in sides {
            side.withUnsafeBufferPointer { side in
                if Self.letters(side) >= Self.minimumCompound, let inner = bestSplit(side) {
                    if weight(side) != nil { pieces.append(Split.Piece(word: String(decoding: side, as: UTF8.self), range: range, isFinest: false)) }
                    var innerPieces: [Split.Piece] = []
                    collect(inner, of: side, offset: range.lowerBound, into: &innerPieces)
                    // A restored `e` may reach past the modifier's bytes.
                    for piece in innerPieces {
                        let clamped = min(piece.range.lowerBound, range.upperBound)..<min(piece.range.upperBound, range.upperBound)
                        pieces.append(Split.Piece(word: piece.word, range: clamped, isFinest: piece.isFinest))
                    }
                } else {
                    pieces.append(Split.Piece(word: String(decoding: side, as: UTF8.self), range: range, isFinest: true))
                }
            }
        }
    }

    /// The log-frequency a word contributes as a part, or nil when it may not be one.
    private func weight(_ word: UnsafeBufferPointer<UInt8>) -> Double? {
        // The lookup first: most strings tried are no words at all.
        guard let found = evidence(word) else { return nil }
        let length = Self.letters(word)
        guard length >= Self.minimumPart else { return nil }
        guard tables.excludedParts.id(of: word) == nil else { return nil }
        let needed: Int
        if hasWordList {
            // A 3-letter part must be a word German has (`Bergamo` is no `berg` + `amo`).
            if length == 3 && !found.known { return nil }
            needed = length == 3 ? max(20, thresholds.listed) : (found.known ? thresholds.listed : thresholds.unlisted)
        } else {
            needed = length == 3 ? thresholds.unlisted : max(3, thresholds.unlisted / 5)
        }
        guard found.frequency >= needed else { return nil }
        return log(Double(max(found.frequency, 1))) - (length == 3 ? Self.shortPartPenalty : 0)
    }

    /// Whether `word` may be a part of a compound.
    func isPart(_ word: String) -> Bool {
        var word = word
        return word.withUTF8 { weight($0) != nil }
    }

    /// The best binary split of `word`.
    ///
    /// A split must be worth it: the parts' mean log-frequency (3-letter parts discounted) must
    /// reach the word's own log-frequency less `splitMargin` (Koehn and Knight's criterion,
    /// relaxed so that frequent compounds such as `Impfstoff` still split, while a word whose
    /// "parts" are rare, such as `Verband` → `verb` + `and`, stays whole).
    ///
    /// Every head is a suffix of the word, and a head may itself be a compound split the same
    /// way: the suffixes are solved from the shortest up, each looked up once (trying every cut
    /// of every suffix anew looked the same heads up over and over).
    private func bestSplit(_ word: UnsafeBufferPointer<UInt8>) -> Candidate? {
        var work = BestSplitTables()
        swap(&work, &scratch)
        defer { swap(&work, &scratch) }
        // Cut between characters of the UTF-8 bytes (never inside `ä`).
        work.starts.removeAll(keepingCapacity: true)
        for offset in word.indices where word[offset] & 0xC0 != 0x80 { work.starts.append(offset) }
        let starts = work.starts
        let letters = starts.count
        guard letters >= Self.minimumCompound else { return nil }
        // By the character a suffix starts at: its best split where it was needed, and its
        // weight as a head (its own, or its split's score), nil where it may not be one.
        work.best.removeAll(keepingCapacity: true)
        work.best.append(contentsOf: repeatElement(nil, count: letters))
        work.headWeight.removeAll(keepingCapacity: true)
        work.headWeight.append(contentsOf: repeatElement(nil, count: letters))
        for start in stride(from: letters - Self.minimumPart, through: 0, by: -1) {
            let suffix = UnsafeBufferPointer(rebasing: word[starts[start]...])
            let suffixLetters = letters - start
            // A head starts a part's length in at least; `-schaft`, `-heit`, `-keit` in any
            // inflection end words and begin no heads.
            let isHead = start >= Self.minimumPart && !tables.suffixHeads.contains(where: { Self.hasPrefix(suffix, $0) })
            let ownWeight = isHead ? weight(suffix) : nil
            if suffixLetters >= Self.minimumCompound && (start == 0 || (isHead && ownWeight == nil)) {
                work.best[start] = bestCut(suffix, startingAt: start, starts: starts, headWeight: work.headWeight)
            }
            if isHead { work.headWeight[start] = ownWeight ?? work.best[start]?.score }
        }
        return work.best[0]
    }

    /// By character of the word `bestSplit` splits: where it starts in the bytes, the best
    /// split of the suffix from there, and that suffix's weight as a head.
    private struct BestSplitTables {
        var starts: [Int] = []
        var best: [Candidate?] = []
        var headWeight: [Double?] = []
    }

    /// The best cut of the suffix of the word from character `start` on, given the head weight
    /// of every shorter suffix. Its positions are in the suffix's bytes.
    private func bestCut(_ suffix: UnsafeBufferPointer<UInt8>, startingAt start: Int, starts: [Int], headWeight: [Double?]) -> Candidate? {
        var best: Candidate?
        var bestChoice = -Double.infinity
        // A word without evidence counts as used once: the index's lexicon leaves out words used
        // once, so that a segment or query analyzed with it splits as the build did. Looked up
        // once a split is found: most words have none.
        lazy var threshold = log(Double(max(evidence(suffix)?.frequency ?? 1, 1))) - Self.splitMargin
        let base = starts[start]
        for character in (start + Self.minimumPart)...(starts.count - Self.minimumPart) {
            guard let headWeight = headWeight[character] else { continue }
            let cut = starts[character] - base
            let head = UnsafeBufferPointer(rebasing: suffix[cut...])
            let left = UnsafeBufferPointer(rebasing: suffix[..<cut])
            forEachModifierForm(left) { modifier, modifierEnd, ending, penalty in
                // A modifier is a word (perhaps a compound word itself, split later by
                // `collect`); heads may be unlisted compounds. This keeps the search quadratic.
                guard let modifierWeight = weight(modifier) else { return }
                let score = (modifierWeight + headWeight) / 2
                let penalty = penalty + (misplacesLink(modifier: modifier, head: head) ? Self.misplacedLinkPenalty : 0)
                guard score >= threshold, score - penalty > bestChoice else { return }
                bestChoice = score - penalty
                best = Candidate(cut: cut, modifierEnd: modifierEnd, restoredEnding: ending, score: score)
            }
        }
        return best
    }

    /// How far (in log-frequency) the parts may fall below the whole word for a split.
    static let splitMargin = 2.3
    /// A 3-letter part counts this much less (they make most false splits: `and`, `bet`, `ent`).
    static let shortPartPenalty = 1.0

    /// Calls `body` with each word a modifier may stand for (its bytes, where they end in
    /// `left`, the ending restored), each with a penalty (in log-frequency) so that the plain
    /// reading wins a tie (`mehrwert|steuer`, not `mehrwert|s|teuer`): itself, without a linking
    /// element, with a dropped `e` restored, or a verb stem's infinitive.
    private func forEachModifierForm(_ left: UnsafeBufferPointer<UInt8>,
                                     _ body: (UnsafeBufferPointer<UInt8>, Int, Int?, Double) -> Void) {
        body(left, left.count, nil, 0)
        let length = Self.letters(left)
        for link in tables.linkingElements where length - link.count >= Self.minimumPart && Self.hasSuffix(left, link) {
            body(UnsafeBufferPointer(rebasing: left[..<(left.count - link.count)]), left.count - link.count, nil, Self.linkPenalty)
        }
        guard length >= 4 else { return }
        for (index, ending) in tables.restoredEndings.enumerated() {
            formBytes.removeAll(keepingCapacity: true)
            formBytes.append(contentsOf: left)
            formBytes.append(contentsOf: ending)
            formBytes.withUnsafeBufferPointer { body($0, left.count, index, Self.linkPenalty) }
        }
    }

    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ prefix: [UInt8]) -> Bool {
        bytes.count >= prefix.count && bytes.prefix(prefix.count).elementsEqual(prefix)
    }

    private static func hasSuffix(_ bytes: UnsafeBufferPointer<UInt8>, _ suffix: [UInt8]) -> Bool {
        bytes.count >= suffix.count && bytes.suffix(suffix.count).elementsEqual(suffix)
    }

    /// Whether the head takes the `s` that links after a modifier ending in one of `sLinkedEndings`.
    private func misplacesLink(modifier: UnsafeBufferPointer<UInt8>, head: UnsafeBufferPointer<UInt8>) -> Bool {
        head.first == UInt8(ascii: "s") && tables.sLinkedEndings.contains { Self.hasSuffix(modifier, $0) }
    }

    static let linkPenalty = 0.5
    static let misplacedLinkPenalty = 3.0
}
