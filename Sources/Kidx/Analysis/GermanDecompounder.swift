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
    /// A split: the parts, finest first-level structure kept in `tree` for all levels.
    struct Split: Equatable {
        /// The words a compound is made of, finest level, in order (`impf`, `stoff`, `mangel`).
        var parts: [String]
        /// Intermediate compounds that are words themselves (`impfstoff`).
        var intermediate: [String]
    }

    /// Looks a folded word up.
    let evidence: (String) -> WordEvidence?
    /// Whether a system word list backs the evidence (then unknown words need more corpus use).
    let hasWordList: Bool
    /// Best binary splits found so far, by word: heads recur across words (`…steuer`, `…zahlen`).
    private var memo: [String: Candidate?] = [:]

    /// A decompounder that looks words up with `evidence`.
    init(evidence: @escaping (String) -> WordEvidence?, hasWordList: Bool) {
        self.evidence = evidence
        self.hasWordList = hasWordList
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

    private static let linkingElements = ["s", "es", "n", "en", "e", "er", "ns", "ens"]

    /// Splits `word`, or returns nil when it is not a compound of known words.
    func split(_ word: String) -> Split? {
        guard word.count >= Self.minimumCompound, let best = bestSplit(word) else { return nil }
        var parts: [String] = [], intermediate: [String] = []
        collect(best, parts: &parts, intermediate: &intermediate)
        return parts.count >= 2 ? Split(parts: parts, intermediate: intermediate) : nil
    }

    /// A binary split: modifier (as a word) and head (a word, or itself split).
    private struct Candidate {
        var modifier: String
        var head: String
        var score: Double
    }

    private func collect(_ candidate: Candidate, parts: inout [String], intermediate: inout [String]) {
        for side in [candidate.modifier, candidate.head] {
            if side.count >= Self.minimumCompound, let inner = bestSplit(side) {
                if isPart(side) { intermediate.append(side) }
                collect(inner, parts: &parts, intermediate: &intermediate)
            } else {
                parts.append(side)
            }
        }
    }

    /// The log-frequency a word contributes as a part, or nil when it may not be one.
    private func weight(_ word: String) -> Double? {
        let length = word.count
        guard length >= Self.minimumPart, !Self.neverParts.contains(word), !GermanStopWords.words.contains(word),
              let found = evidence(word) else { return nil }
        let needed: Int
        if hasWordList {
            guard found.known || found.frequency >= 100 else { return nil }
            needed = length == 3 ? 20 : (found.known ? 2 : 100)
        } else {
            needed = length == 3 ? 100 : 20
        }
        guard found.frequency >= needed else { return nil }
        return log(Double(found.frequency)) - (length == 3 ? Self.shortPartPenalty : 0)
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
        let characters = Array(word)
        var best: Candidate?
        var bestChoice = -Double.infinity
        let threshold = evidence(word).map { log(Double(max($0.frequency, 1))) - Self.splitMargin } ?? -.infinity
        let last = characters.count - Self.minimumPart
        if last >= Self.minimumPart {
            for cut in Self.minimumPart...last {
                let head = String(characters[cut...])
                guard let headWeight = weight(head) ?? innerWeight(head) else { continue }
                let left = String(characters[..<cut])
                for (modifier, penalty) in modifierForms(left) {
                    guard let modifierWeight = weight(modifier) ?? innerWeight(modifier) else { continue }
                    let score = (modifierWeight + headWeight) / 2
                    let penalty = penalty + (Self.misplacesLink(modifier: modifier, head: head) ? Self.misplacedLinkPenalty : 0)
                    guard score >= threshold, score - penalty > bestChoice else { continue }
                    bestChoice = score - penalty
                    best = Candidate(modifier: modifier, head: head, score: score)
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
        guard word.count >= Self.minimumCompound else { return nil }
        return bestSplit(word)?.score
    }

    /// The words a modifier may stand for, each with a penalty (in log-frequency) so that the
    /// plain reading wins a tie (`mehrwert|steuer`, not `mehrwert|s|teuer`): itself, without a
    /// linking element, with a dropped `e` restored, or a verb stem's infinitive.
    private func modifierForms(_ left: String) -> [(String, Double)] {
        var forms = [(left, 0.0)]
        for link in Self.linkingElements where left.hasSuffix(link) && left.count - link.count >= Self.minimumPart {
            forms.append((String(left.dropLast(link.count)), Self.linkPenalty))
        }
        if left.count >= 4 {
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
