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

    /// Looks a folded word up.
    let evidence: (String) -> WordEvidence?
    /// Whether a system word list backs the evidence (then unknown words need more corpus use).
    let hasWordList: Bool
    /// Best binary splits found so far, by word: heads recur across words (`…steuer`, `…zahlen`).
    private var memo: [String: Candidate?] = [:]

    /// A decompounder that looks words up with `evidence`.
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

    init(evidence: @escaping (String) -> WordEvidence?, hasWordList: Bool, thresholds: Thresholds) {
        self.evidence = evidence
        self.hasWordList = hasWordList
        self.thresholds = thresholds
    }

    /// Memoized words kept at most (about 10 MB).
    static let memoLimit = 50_000

    static let minimumPart = 3
    static let minimumCompound = 7

    /// Words that end or start many words without being their parts.
    private static let neverParts: Set<String> = [
        "schaft", "schaften", "ion", "ionen", "ung", "ungen", "heit", "keit", "tum", "nis", "isch", "lich", "ling",
        "chen", "lein", "ismus", "ist", "isten", "tät", "ier", "ieren", "iert", "erin", "innen", "ern", "end", "ende",
        "bar", "sam", "haft", "los", "ige", "igen", "ische", "ischen", "licher", "liche", "lichen", "ver", "ent", "zer",
        "miss", "mit", "zur", "zum", "ans", "ins", "ums", "rin", "ter", "ten", "tes", "ens", "ste", "sten", "ster",
    ]

    /// Letters in a folded word: its Unicode scalars (counting Characters would segment graphemes,
    /// which is slow and, for folded German, gives the same number).
    static func letters(_ word: String) -> Int { word.unicodeScalars.count }

    private static let suffixHeads = ["schaft", "heit", "keit"]

    private static let linkingElements = ["s", "es", "n", "en", "e", "er", "ns", "ens"]

    /// Splits `word`, or returns nil when it is not a compound of known words.
    func split(_ word: String) -> Split? {
        // The memo helps within a word and across words that share heads; unbounded, it would
        // hold every substring tried in a whole corpus (hundreds of megabytes). Emptied, it keeps
        // its table: growing it again took a tenth of the splitting time.
        if memo.count > Self.memoLimit { memo.removeAll(keepingCapacity: true) }
        guard Self.letters(word) >= Self.minimumCompound, let best = bestSplit(word) else { return nil }
        var pieces: [Split.Piece] = []
        collect(best, offset: 0, length: word.utf8.count, into: &pieces)
        guard pieces.filter(\.isFinest).count >= 2 else { return nil }
        return Split(pieces: pieces.sorted { $0.range.lowerBound < $1.range.lowerBound }, top: [best.modifier, best.head])
    }

    /// A binary split: modifier (as a word) and head (a word, or itself split).
    private struct Candidate {
        var modifier: String
        var head: String
        /// Where the head starts in the split word, in bytes.
        var cut: Int
        var score: Double
    }

    private func collect(_ candidate: Candidate, offset: Int, length: Int, into pieces: inout [Split.Piece]) {
        let sides = [(candidate.modifier, offset..<(offset + candidate.cut)), (candidate.head, (offset + candidate.cut)..<(offset + length))]
        for (side, range) in sides {
            if Self.letters(side) >= Self.minimumCompound, let inner = bestSplit(side) {
                if isPart(side) { pieces.append(Split.Piece(word: side, range: range, isFinest: false)) }
                var innerPieces: [Split.Piece] = []
                collect(inner, offset: range.lowerBound, length: side.utf8.count, into: &innerPieces)
                // A restored `e` may reach past the modifier's bytes.
                for piece in innerPieces {
                    let clamped = min(piece.range.lowerBound, range.upperBound)..<min(piece.range.upperBound, range.upperBound)
                    pieces.append(Split.Piece(word: piece.word, range: clamped, isFinest: piece.isFinest))
                }
            } else {
                pieces.append(Split.Piece(word: side, range: range, isFinest: true))
            }
        }
    }

    /// The log-frequency a word contributes as a part, or nil when it may not be one.
    private func weight(_ word: String) -> Double? {
        // The lookup first: most strings tried are no words at all.
        guard let found = evidence(word) else { return nil }
        let length = Self.letters(word)
        guard length >= Self.minimumPart, !Self.neverParts.contains(word), !GermanStopWords.words.contains(word) else { return nil }
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
    func isPart(_ word: String) -> Bool { weight(word) != nil }

    /// The best binary split of `word`, memoized (heads recur across split points).
    ///
    /// A split must be worth it: the parts' mean log-frequency (3-letter parts discounted) must
    /// reach the word's own log-frequency less `splitMargin` (Koehn and Knight's criterion,
    /// relaxed so that frequent compounds such as `Impfstoff` still split, while a word whose
    /// "parts" are rare, such as `Verband` → `verb` + `and`, stays whole).
    private func bestSplit(_ word: String) -> Candidate? {
        if let known = memo[word] { return known }
        memo[word] = .some(nil)  // guards against cycles while computing
        // Cut between characters of the UTF-8 bytes (never inside `ä`): Strings made from byte
        // slices are cheap, from Character arrays they are not.
        let bytes = Array(word.utf8)
        var best: Candidate?
        var bestChoice = -Double.infinity
        // A word without evidence counts as used once: the index's lexicon leaves out words used
        // once, so that a segment or query analyzed with it splits as the build did.
        let threshold = log(Double(max(evidence(word)?.frequency ?? 1, 1))) - Self.splitMargin
        var characterCount = 0
        var boundaries: [Int] = []  // byte offset of each character start
        for (offset, byte) in bytes.enumerated() where byte & 0xC0 != 0x80 {
            boundaries.append(offset)
            characterCount += 1
        }
        let last = characterCount - Self.minimumPart
        if last >= Self.minimumPart {
            for cut in Self.minimumPart...last {
                let cutByte = boundaries[cut]
                let head = String(decoding: bytes[cutByte...], as: UTF8.self)
                // `-schaft`, `-heit`, `-keit` in any inflection end words; they begin no heads.
                if Self.suffixHeads.contains(where: head.hasPrefix) { continue }
                guard let headWeight = weight(head) ?? innerWeight(head) else { continue }
                let left = String(decoding: bytes[..<cutByte], as: UTF8.self)
                for (modifier, penalty) in modifierForms(left) {
                    // A modifier is a word (perhaps a compound word itself, split later by
                    // `collect`); heads may be unlisted compounds. This keeps the search quadratic.
                    guard let modifierWeight = weight(modifier) else { continue }
                    let score = (modifierWeight + headWeight) / 2
                    let penalty = penalty + (Self.misplacesLink(modifier: modifier, head: head) ? Self.misplacedLinkPenalty : 0)
                    guard score >= threshold, score - penalty > bestChoice else { continue }
                    bestChoice = score - penalty
                    best = Candidate(modifier: modifier, head: head, cut: cutByte, score: score)
                }
            }
        }
        memo[word] = .some(best)
        return best
    }

    /// How far (in log-frequency) the parts may fall below the whole word for a split.
    static let splitMargin = 2.3
    /// A 3-letter part counts this much less (they make most false splits: `and`, `bet`, `ent`).
    static let shortPartPenalty = 1.0

    private func innerWeight(_ word: String) -> Double? {
        guard Self.letters(word) >= Self.minimumCompound else { return nil }
        return bestSplit(word)?.score
    }

    /// The words a modifier may stand for, each with a penalty (in log-frequency) so that the
    /// plain reading wins a tie (`mehrwert|steuer`, not `mehrwert|s|teuer`): itself, without a
    /// linking element, with a dropped `e` restored, or a verb stem's infinitive.
    private func modifierForms(_ left: String) -> [(String, Double)] {
        var forms = [(left, 0.0)]
        let length = Self.letters(left)
        for link in Self.linkingElements where length - link.utf8.count >= Self.minimumPart && left.hasSuffix(link) {
            forms.append((String(decoding: left.utf8.dropLast(link.utf8.count), as: UTF8.self), Self.linkPenalty))
        }
        if length >= 4 {
            forms.append((left + "e", Self.linkPenalty))
            forms.append((left + "en", Self.linkPenalty))
        }
        return forms
    }

    /// Modifiers ending like this always take a linking `s` (`Gesundheitsamt`, `Ordnungsamt`):
    /// an `s` after them belongs to the link, not to the head (`samt`, `sverfahren`).
    static let sLinkedEndings = ["ung", "heit", "keit", "schaft", "ion", "tät", "ität", "ling", "tum"]

    private static func misplacesLink(modifier: String, head: String) -> Bool {
        head.hasPrefix("s") && sLinkedEndings.contains { modifier.hasSuffix($0) }
    }

    static let linkPenalty = 0.5
    static let misplacedLinkPenalty = 3.0
}
