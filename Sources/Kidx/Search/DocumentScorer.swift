/// A document-at-a-time source of scored documents: what the top-k loop drives.
///
/// A scorer starts before its first document (`doc` is -1) and moves only forward. Besides its
/// score it tells how high its score can be — over all documents (`maxScore`) and over a window
/// of documents (`maxScore(upTo:)`, from block summaries) — so that the top-k loop can skip
/// documents and whole blocks that cannot reach the current top k.
///
/// A class hierarchy rather than a protocol: the top-k loop reads `doc` as a stored property and
/// calls the rest through unretained references, which costs a fraction of existential calls.
class DocumentScorer {
    /// The current document: -1 before the first `advance`, `PostingsCursor.exhausted` after the last.
    var doc: Int32 = -1
    /// No document scores higher than this.
    let maxScore: Float
    /// True when scoring a document costs far more than finding it (positions are read): the
    /// top-k loop then scores it last, and only while the document can still make the top k.
    let isCostly: Bool

    init(maxScore: Float, isCostly: Bool = false) {
        self.maxScore = maxScore
        self.isCostly = isCostly
    }

    /// About how many documents the scorer stops at: a conjunction moves the cheapest first.
    var cost: Int { .max }

    /// True when the scorer's documents are all in memory once it has read the first (a list
    /// shorter than a block): moving it costs a few comparisons.
    var movesCheaply: Bool { false }

    /// True when `accumulate` reads the scorer's lists straight through (posting lists and sums
    /// of them), so that summing a chunk costs little more than moving through it.
    var sumsInChunks: Bool { false }

    /// Whether summing the scorer over a chunk of `span` documents (`accumulate`) costs less
    /// than looking it up for each of `candidates` documents in it, its documents taken as
    /// spread evenly over the `documentCount`: a lookup costs about as much as summing four
    /// documents (FANG AND, instructions per query: 2 and 8 cost 1 to 3 % more than 4).
    func sumsCheaper(candidates: Int, span: Int, documentCount: Int) -> Bool {
        sumsInChunks && Double(candidates * 4) >= Double(cost) * Double(span) / Double(documentCount)
    }

    /// Moves to the first matching document at or after `target` and returns it.
    func advance(to target: Int32) throws -> Int32 { preconditionFailure("\(Self.self) overrides advance(to:)") }
    /// The score of the current document.
    func score() throws -> Float { preconditionFailure("\(Self.self) overrides score()") }
    /// The score of `target` if the scorer has it, else 0, leaving `doc` at or before the next
    /// match: for looking up candidates one by one (targets must grow strictly), where a scorer
    /// whose matches are costly to find need not search past the candidate.
    func score(ifAt target: Int32) throws -> Float { try advance(to: target) == target ? try score() : 0 }
    /// The score of the current document, or any value not above `threshold` when the score
    /// cannot beat it: lets a scorer skip its costly parts for documents that will not rank.
    func score(above threshold: Float) throws -> Float { try score() }
    /// `score(ifAt:)`, or any value not above `threshold` when the score cannot beat it.
    func score(ifAt target: Int32, above threshold: Float) throws -> Float {
        try advance(to: target) == target ? try score(above: threshold) : 0
    }
    /// Prepares `maxScore(upTo:)` for documents from `target` on, without decoding anything,
    /// and returns the last document up to which the scorer's bound stays the same.
    func advanceShallow(to target: Int32) -> Int32 { PostingsCursor.exhausted - 1 }
    /// No document from the last `advanceShallow` target up to `last` scores higher than this.
    func maxScore(upTo last: Int32) -> Float { maxScore }
    /// Adds each of the scorer's documents with its score to `seeds` (clause bit 1), when it has
    /// at most `limit` of them and can list them without moving (a short posting list).
    /// Returns false, adding nothing, otherwise. (The accumulator is called directly: through a
    /// closure per document, FANG OR queries took 439.0 k instructions each, against 433.3 k.)
    func addScores(ifAtMost limit: Int, to seeds: ScoreAccumulator) throws -> Bool { false }
    /// True when `addScores` can list the scorer's documents (a posting list), so that a
    /// scorer's `cost` documents are all it would add.
    var listsWhole: Bool { false }
    /// Moves through the documents from `first` through `last`, adding each one's score to
    /// `scores[doc - first]` and setting its bit in `marks`, and returns the document it stops
    /// at (the first after `last`): the top-k loop sums a chunk of documents a list at a time.
    func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                    marks: UnsafeMutablePointer<UInt64>) throws -> Int32 {
        var current = try advance(to: first)
        while current <= last {
            let offset = Int(current &- first)
            scores[offset] += try score()
            marks[offset >> 6] |= 1 << UInt64(offset & 63)
            current = try advance(to: current &+ 1)
        }
        return current
    }
    /// `accumulate` for the documents marked in `filter` (a chunk's candidates, by offset from
    /// `first`): others are passed over unscored and unmarked. By default all are summed.
    func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                    marks: UnsafeMutablePointer<UInt64>, within filter: UnsafePointer<UInt64>) throws -> Int32 {
        try accumulate(from: first, through: last, into: scores, marks: marks)
    }
    /// What BM25 saturates for the current document: a term's frequency, a phrase's weighted
    /// matches (for explanations; 0 where there is none).
    var currentFrequency: Float { 0 }
}

/// What BM25 needs of a field besides a posting list. Plain values and pointers into buffers the
/// searcher owns: scorers copy it freely, without reference counting.
struct FieldScoring {
    /// `k1 + 1`.
    let saturation: Float
    /// Per norm byte, `k1 · (1 − b + b · length / average length)`.
    let factors: UnsafeBufferPointer<Float>
    /// The field's norm byte of every document.
    let norms: UnsafeRawBufferPointer

    /// BM25 of `freq` occurrences in document `doc`, for a list of weight `weight` (boost × idf).
    @inline(__always)
    func score(freq: Float, weight: Float, doc: Int32) -> Float {
        weight * freq * saturation / (freq + factors[Int(norms[Int(doc)])])
    }

    /// The highest score a block can hold, from its largest frequency and shortest field.
    /// Slightly raised: a bound must never fall below a score through rounding.
    func bound(maxFreq: UInt32, minNorm: UInt8, weight: Float) -> Float {
        let freq = Float(maxFreq)
        return weight * freq * saturation / (freq + factors[Int(minNorm)]) * 1.0001
    }

    /// Throws when `doc` is not a document of the index (a damaged list).
    @inline(__always)
    func check(_ doc: Int32) throws {
        guard Int(doc) < norms.count || doc == PostingsCursor.exhausted else {
            throw KidxError.corruptIndex(file: IndexFormat.Kind.postings.fileName, reason: "document \(doc) beyond the last document")
        }
    }
}

/// Scores one posting list with BM25.
///
/// Hot paths read only `let` properties and call only mutating methods of the cursor: anything
/// else copies the cursor (and retains its buffers) on every call.
final class TermScorer: DocumentScorer {
    private var cursor: PostingsCursor
    private let weight: Float
    private let scoring: FieldScoring
    /// The cursor's skip table: block summaries, the tail last.
    private let skips: SkipTable
    private var shallowBlock = 0
    private let docFreq: Int

    /// A scorer of `cursor`'s list with weight `weight` (boost × idf). Throws on a damaged
    /// list whose documents it reads to bound it.
    init(_ cursor: PostingsCursor, weight: Float, scoring: FieldScoring) throws {
        let skips = cursor.skips
        var best: Float = 0
        if PostingsWriter.storesTailSummary(docFreq: cursor.docFreq) {
            for index in 0..<skips.summaryCount {
                let summary = skips.summary(ofBlock: index)
                best = max(best, scoring.bound(maxFreq: summary.maxFreq, minNorm: summary.minNorm, weight: weight))
            }
        } else {
            // A short list without a summary: its documents' own scores (margin as `bound`'s).
            // Read by a copy that has shared the buffers only until it is dropped here: the
            // cursor itself has not read a block.
            var reading = cursor
            if try reading.next() {
                try Self.scores(of: &reading, through: PostingsCursor.exhausted - 1, scoring: scoring, weight: weight) { _, score in
                    best = max(best, score * 1.0001)
                }
            }
        }
        self.cursor = cursor
        self.weight = weight
        self.scoring = scoring
        self.skips = skips
        docFreq = cursor.docFreq
        super.init(maxScore: best)
    }

    override var cost: Int { docFreq }

    override var movesCheaply: Bool { docFreq < BitPacking.blockSize }

    override var sumsInChunks: Bool { true }

    override var listsWhole: Bool { true }

    override func advance(to target: Int32) throws -> Int32 {
        _ = try cursor.advance(to: target)
        try scoring.check(cursor.doc)
        doc = cursor.doc
        return doc
    }

    override func score() throws -> Float {
        scoring.score(freq: Float(cursor.freq), weight: weight, doc: doc)
    }

    /// One call where the default makes two (`advance`, `score`): lists are looked up for
    /// most candidates of a query.
    override func score(ifAt target: Int32) throws -> Float {
        _ = try cursor.advance(to: target)
        try scoring.check(cursor.doc)
        doc = cursor.doc
        return doc == target ? scoring.score(freq: Float(cursor.freq), weight: weight, doc: target) : 0
    }

    override func score(ifAt target: Int32, above threshold: Float) throws -> Float { try score(ifAt: target) }

    override var currentFrequency: Float { Float(cursor.freq) }

    override func addScores(ifAtMost limit: Int, to seeds: ScoreAccumulator) throws -> Bool {
        guard cursor.docFreq <= limit, doc < 0 else { return false }
        // A copy reads the list from its start and leaves this scorer's cursor where it is.
        var reading = cursor
        guard try reading.next() else { return true }
        try Self.scores(of: &reading, through: PostingsCursor.exhausted - 1, scoring: scoring, weight: weight) { doc, score in
            seeds.add(Int(doc), score: score, bit: 1)
        }
        return true
    }

    override func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                             marks: UnsafeMutablePointer<UInt64>) throws -> Int32 {
        if try cursor.advance(to: first) {
            try Self.scores(of: &cursor, through: last, scoring: scoring, weight: weight) { doc, score in
                let offset = Int(doc &- first)
                scores[offset] += score
                marks[offset >> 6] |= 1 << UInt64(offset & 63)
            }
        }
        doc = cursor.doc
        return doc
    }

    /// Scores only the candidates: a conjunction's later words have most of their documents
    /// outside the rarest word's, and a bit test costs less than a score (a norm read and a
    /// division). FANG AND queries: 499.2 k → 490.2 k instructions each, two-word ones 868.5 k
    /// → 847.6 k; in time within this machine's noise.
    override func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                             marks: UnsafeMutablePointer<UInt64>, within filter: UnsafePointer<UInt64>) throws -> Int32 {
        if try cursor.advance(to: first) {
            let (scoring, weight) = (scoring, weight)
            try cursor.forEachRun(through: last) { docs, freqs in
                try scoring.check(docs[docs.count - 1])
                for index in docs.indices {
                    let offset = Int(docs[index] &- first)
                    let bit: UInt64 = 1 << UInt64(offset & 63)
                    guard filter[offset >> 6] & bit != 0 else { continue }
                    scores[offset] += scoring.score(freq: Float(freqs[index]), weight: weight, doc: docs[index])
                    marks[offset >> 6] |= bit
                }
            }
        }
        doc = cursor.doc
        return doc
    }

    /// Calls `body` with each document of `cursor` from its current one through `last` and
    /// its score, a decoded run at a time, each run's last (largest) document checked against
    /// the norms once.
    @inline(__always)
    private static func scores(of cursor: inout PostingsCursor, through last: Int32, scoring: FieldScoring, weight: Float,
                               _ body: (Int32, Float) throws -> Void) throws {
        try cursor.forEachRun(through: last) { docs, freqs in
            try scoring.check(docs[docs.count - 1])
            for index in docs.indices {
                try body(docs[index], scoring.score(freq: Float(freqs[index]), weight: weight, doc: docs[index]))
            }
        }
    }

    override func advanceShallow(to target: Int32) -> Int32 {
        while shallowBlock < skips.summaryCount - 1, skips.lastDoc(ofBlock: shallowBlock) < target { shallowBlock += 1 }
        return skips.summary(ofBlock: shallowBlock).lastDoc
    }

    override func maxScore(upTo last: Int32) -> Float {
        // The list's next document is past the window: nothing of it is in there.
        if doc > last { return 0 }
        // A list of one summary (its tail) is bounded by the list's bound, which a short list
        // has without a summary.
        if skips.fullBlocks == 0 { return maxScore }
        var best: Float = 0
        var index = shallowBlock
        while index < skips.summaryCount {
            let summary = skips.summary(ofBlock: index)
            best = max(best, scoring.bound(maxFreq: summary.maxFreq, minNorm: summary.minNorm, weight: weight))
            if summary.lastDoc >= last { break }
            index += 1
        }
        return best
    }
}

/// Scores documents where the terms of a phrase stand at their offsets, or for a proximity
/// phrase (`slop` > 0) within `slop` moves of them, BM25 over the number of such matches
/// weighted by their closeness, with the terms' idf summed (as Lucene weighs phrases).
///
/// A stop word's list has no positions: the document must have the word, and any word may
/// stand at its place (as in Lucene, where stop words leave a gap).
final class PhraseScorer: DocumentScorer {
    private var cursors: [PostingsCursor]
    private let offsets: [Int]
    /// The terms whose places are checked: those whose lists have positions.
    private let placed: [Int]
    private let slop: Int
    private let weight: Float
    private let scoring: FieldScoring
    private var positions: [[Int32]]
    private var frequency: Float = 0

    /// A scorer of the phrase whose terms' lists are `cursors`, standing at `offsets`.
    init(_ cursors: [PostingsCursor], offsets: [Int], slop: Int, weight: Float, scoring: FieldScoring) {
        self.cursors = cursors
        self.offsets = offsets
        placed = cursors.indices.filter { cursors[$0].hasPositions }
        self.slop = slop
        self.weight = weight
        self.scoring = scoring
        positions = Array(repeating: [], count: cursors.count)
        // Phrase frequencies have no stored maximum: the limit of BM25 as frequency grows.
        super.init(maxScore: weight * scoring.saturation * 1.0001)
    }

    override var cost: Int { cursors.map(\.docFreq).min() ?? 0 }

    override func advance(to target: Int32) throws -> Int32 {
        if doc >= target { return doc }
        var target = target
        outer: while true {
            // Leapfrog: move every list to the largest current document until all agree.
            for index in cursors.indices {
                guard try cursors[index].advance(to: target) else { break outer }
                if cursors[index].doc != target {
                    target = cursors[index].doc
                    continue outer
                }
            }
            try scoring.check(target)
            frequency = try matchFrequency()
            if frequency > 0 {
                doc = target
                return doc
            }
            target += 1
        }
        doc = PostingsCursor.exhausted
        return doc
    }

    override func score() throws -> Float { scoring.score(freq: frequency, weight: weight, doc: doc) }

    override var currentFrequency: Float { frequency }

    /// Exact phrases: how often the terms stand at their offsets. Proximity phrases: for each
    /// position of the first term, the closest placement of the others within `slop` moves,
    /// counted as 1 / (1 + moves) like Lucene's sloppy phrases. A phrase of stop words only:
    /// the smallest of their frequencies.
    private func matchFrequency() throws -> Float {
        guard let first = placed.first else { return Float(cursors.indices.map { cursors[$0].freq }.min() ?? 0) }
        for index in placed { try cursors[index].positions(into: &positions[index]) }
        var frequency: Float = 0
        for start in positions[first] {
            let anchor = Int(start) - offsets[first]
            var moves = 0
            for index in placed.dropFirst() {
                let wanted = anchor + offsets[index]
                guard let distance = Self.distance(from: wanted, in: positions[index], limit: slop - moves) else {
                    moves = -1
                    break
                }
                moves += distance
            }
            if moves >= 0 { frequency += 1 / Float(1 + moves) }
        }
        return frequency
    }

    /// The distance from `wanted` to the nearest position of `sorted` when it is at most `limit`.
    private static func distance(from wanted: Int, in sorted: [Int32], limit: Int) -> Int? {
        guard limit >= 0 else { return nil }
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if Int(sorted[middle]) < wanted { low = middle + 1 } else { high = middle }
        }
        var best: Int?
        if low < sorted.count { best = Int(sorted[low]) - wanted }
        if low > 0 { best = min(best ?? .max, wanted - Int(sorted[low - 1])) }
        guard let best, best <= limit else { return nil }
        return best
    }
}

/// Scorers a composite scorer holds: kept alive by the array, called through unretained
/// references (retaining and releasing each on every call cost more than the calls).
struct ScorerGroup {
    private let owned: [DocumentScorer]
    private let references: [Unmanaged<DocumentScorer>]

    init(_ scorers: [DocumentScorer]) {
        owned = scorers
        references = scorers.map { .passUnretained($0) }
    }

    var isEmpty: Bool { owned.isEmpty }

    /// The first scorer's current document.
    var firstDoc: Int32 { references[0]._withUnsafeGuaranteedRef { $0.doc } }

    /// Calls `body` with each scorer from the `start`-th on, in order.
    @inline(__always)
    func forEach(from start: Int = 0, _ body: (DocumentScorer) throws -> Void) rethrows {
        // By index: a slice of the array would be retained and released on every call.
        for index in start..<references.count { try references[index]._withUnsafeGuaranteedRef(body) }
    }

    /// The sum of the scorers' `maxScore`.
    var maxScore: Float { owned.reduce(0) { $0 + $1.maxScore } }

    /// The smallest `advanceShallow(to: target)` of the scorers.
    func advanceShallow(to target: Int32) -> Int32 {
        var smallest = PostingsCursor.exhausted - 1
        forEach { smallest = min(smallest, $0.advanceShallow(to: target)) }
        return smallest
    }

    /// The sum of the scorers' `maxScore(upTo: last)`.
    func maxScore(upTo last: Int32) -> Float {
        var sum: Float = 0
        forEach { sum += $0.maxScore(upTo: last) }
        return sum
    }
}

/// The sum of several scorers: a document matches when any of them has it.
///
/// A scorer whose documents are all another's (the very word form's list within its stem's)
/// does not help find documents: it is moved only to documents the other has, when scoring.
/// In a conjunction, that spares moving the word form's list to every document tried.
final class DisjunctionScorer: DocumentScorer {
    /// The scorers that find the documents.
    private let finders: ScorerGroup
    /// The others, each with the finder that has all its documents.
    private let dependents: [(scorer: Unmanaged<DocumentScorer>, within: Unmanaged<DocumentScorer>)]
    /// Every scorer (keeping the dependents alive), for bounds.
    private let all: ScorerGroup

    /// The sum of `scorers`, where `within[i]`, when given and among `scorers`, has every
    /// document of `scorers[i]`.
    init(_ scorers: [DocumentScorer], within: [DocumentScorer?] = []) {
        var finders: [DocumentScorer] = []
        var dependents: [(Unmanaged<DocumentScorer>, Unmanaged<DocumentScorer>)] = []
        for (index, scorer) in scorers.enumerated() {
            if index < within.count, let container = within[index], scorers.contains(where: { $0 === container }) {
                dependents.append((.passUnretained(scorer), .passUnretained(container)))
            } else {
                finders.append(scorer)
            }
        }
        self.finders = ScorerGroup(finders)
        self.dependents = dependents
        all = ScorerGroup(scorers)
        findersCost = finders.reduce(0) { $0.addingReportingOverflow($1.cost).overflow ? .max : $0 + $1.cost }
        allSumInChunks = scorers.allSatisfy(\.sumsInChunks)
        super.init(maxScore: all.maxScore)
    }

    /// The finders' costs summed.
    private let findersCost: Int
    override var cost: Int { findersCost }

    override func advance(to target: Int32) throws -> Int32 {
        if doc >= target { return doc }
        var smallest = PostingsCursor.exhausted
        try finders.forEach { scorer in
            let current = scorer.doc < target ? try scorer.advance(to: target) : scorer.doc
            smallest = min(smallest, current)
        }
        doc = smallest
        return doc
    }

    override func score() throws -> Float {
        var sum: Float = 0
        let doc = doc
        try finders.forEach { scorer in
            if scorer.doc == doc { sum += try scorer.score() }
        }
        for dependent in dependents where dependent.within._withUnsafeGuaranteedRef({ $0.doc }) == doc {
            sum += try dependent.scorer._withUnsafeGuaranteedRef { try $0.score(ifAt: doc) }
        }
        return sum
    }

    override var sumsInChunks: Bool { allSumInChunks }
    private let allSumInChunks: Bool

    override func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                             marks: UnsafeMutablePointer<UInt64>) throws -> Int32 {
        try accumulateEach { try $0.accumulate(from: first, through: last, into: scores, marks: marks) }
    }

    override func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                             marks: UnsafeMutablePointer<UInt64>, within filter: UnsafePointer<UInt64>) throws -> Int32 {
        try accumulateEach { try $0.accumulate(from: first, through: last, into: scores, marks: marks, within: filter) }
    }

    /// Calls `accumulate` (`body`) on each finder, then on each dependent: the order `score()`
    /// adds them in, so that a document's sum comes out the same to the last bit.
    @inline(__always)
    private func accumulateEach(_ body: (DocumentScorer) throws -> Int32) rethrows -> Int32 {
        var smallest = PostingsCursor.exhausted
        try finders.forEach { smallest = min(smallest, try body($0)) }
        for dependent in dependents { _ = try dependent.scorer._withUnsafeGuaranteedRef(body) }
        doc = smallest
        return doc
    }

    override func advanceShallow(to target: Int32) -> Int32 { all.advanceShallow(to: target) }

    override func maxScore(upTo last: Int32) -> Float { all.maxScore(upTo: last) }
}

/// Documents that every required scorer has and no excluded scorer has, scored by the required
/// scorers plus those optional scorers that have the document too.
final class ConjunctionScorer: DocumentScorer {
    private let required: ScorerGroup
    private let optional: ScorerGroup
    private let excluded: ScorerGroup
    private let scoring: ScorerGroup
    /// `optionalBounds[i]`: the sum of the optional scorers' `maxScore` from the i-th on.
    private let optionalBounds: [Float]

    init(required: [DocumentScorer], optional: [DocumentScorer] = [], excluded: [DocumentScorer] = []) {
        precondition(!required.isEmpty, "a conjunction needs a required scorer")
        // The rarest first: it proposes the documents the others are moved to.
        self.required = ScorerGroup(required.sorted { $0.cost < $1.cost })
        self.optional = ScorerGroup(optional.sorted { ($0.isCostly ? 1 : 0, -$0.maxScore) < ($1.isCostly ? 1 : 0, -$1.maxScore) })
        self.excluded = ScorerGroup(excluded)
        scoring = ScorerGroup(required + optional)
        // Each bound as the lookups below subtract their way to it.
        var bounds = [self.optional.maxScore]
        self.optional.forEach { bounds.append(bounds.last! - $0.maxScore) }
        optionalBounds = bounds
        requiredCost = required.map(\.cost).min()!
        collectsInChunks = required.allSatisfy(\.sumsInChunks)
        super.init(maxScore: scoring.maxScore)
    }

    /// Whether `collect` can find the documents: every required scorer sums a chunk cheaply.
    let collectsInChunks: Bool

    private let requiredCost: Int
    override var cost: Int { requiredCost }

    override func advance(to target: Int32) throws -> Int32 {
        if doc >= target { return doc }
        var target = target
        while target != PostingsCursor.exhausted {
            // Leapfrog: every required scorer to the largest document any of them is on.
            var agreed = true
            try required.forEach { scorer in
                guard agreed else { return }
                let current = try scorer.advance(to: target)
                if current != target {
                    target = current
                    agreed = false
                }
            }
            guard agreed else { continue }
            var isExcluded = false
            try excluded.forEach { scorer in
                if !isExcluded, try scorer.advance(to: target) == target { isExcluded = true }
            }
            guard isExcluded else { break }
            target += 1
        }
        doc = target
        return doc
    }

    /// Finds the documents from `first` through `last` that every required scorer has and no
    /// excluded one has, a chunk at a time instead of by leapfrog: marks them in `marks` and puts
    /// their required scores' sum in `scores[doc - first]`, leaving 0 everywhere else.
    /// `wordScores` and `wordMarks` are scratch of the same sizes, all 0 before and after. The
    /// scorer is then driven by `collect` and `addingOptional` alone, never by `advance`.
    ///
    /// The rarest required scorer's documents are summed first, each other scorer's into the
    /// scratch and added where both have the document; a chunk the first ones leave empty is
    /// not read further, and a scorer with many documents for the few candidates left is moved
    /// to each candidate instead of summed. Dense lists are decoded whole either way, and
    /// summing them in a loop costs less than moving every list to each document (FANG, two-word
    /// AND queries: 2.03 M instructions each by leapfrog, 1.46 M in chunks).
    func collect(from first: Int32, through last: Int32, documentCount: Int, scores: UnsafeMutablePointer<Float>, marks: UnsafeMutablePointer<UInt64>,
                 wordScores: UnsafeMutablePointer<Float>, wordMarks: UnsafeMutablePointer<UInt64>) throws {
        let markWords = Int(last &- first) / 64 + 1
        var isFirst = true, anyLeft = true
        try required.forEach { scorer in
            guard anyLeft else { return }
            if isFirst {
                isFirst = false
                _ = try scorer.accumulate(from: first, through: last, into: scores, marks: marks)
                anyLeft = Self.count(marks, words: markWords) > 0
                return
            }
            if !scorer.sumsCheaper(candidates: Self.count(marks, words: markWords), span: markWords << 6, documentCount: documentCount) {
                anyLeft = try Self.keep(from: first, words: markWords, scores: scores, marks: marks) { doc in
                    try scorer.advance(to: doc) == doc ? try scorer.score() : nil
                }
                return
            }
            _ = try scorer.accumulate(from: first, through: last, into: wordScores, marks: wordMarks, within: marks)
            anyLeft = Self.merge(words: markWords, scores: scores, marks: marks, wordScores: wordScores, wordMarks: wordMarks, intersecting: true)
        }
        summedOptional = 0
        guard anyLeft else { return }
        if !excluded.isEmpty {
            // The score is unchanged (0 added) where no excluded scorer has the document.
            anyLeft = try Self.keep(from: first, words: markWords, scores: scores, marks: marks) { doc in
                var isExcluded = false
                try excluded.forEach { scorer in
                    if !isExcluded, try scorer.advance(to: doc) == doc { isExcluded = true }
                }
                return isExcluded ? nil : 0
            }
            guard anyLeft else { return }
        }
        try sumOptional(from: first, through: last, words: markWords, documentCount: documentCount, scores: scores, marks: marks,
                        wordScores: wordScores, wordMarks: wordMarks)
    }

    /// The documents marked in a chunk's `words` marks.
    private static func count(_ marks: UnsafeMutablePointer<UInt64>, words: Int) -> Int {
        var count = 0
        for word in 0..<words { count += marks[word].nonzeroBitCount }
        return count
    }

    /// How many optional scorers, the first ones, `collect` summed into the chunk's scores: the
    /// others are looked up per document (`addingOptional`).
    private(set) var summedOptional = 0

    /// Sums the first optional scorers into the chunk's marked documents, as long as each has
    /// fewer documents in the chunk than looking it up for each candidate costs (parts of a
    /// compound, found in almost every document the words are in). Only a first run of them:
    /// a document's score adds them up in their order, whichever way each is read.
    private func sumOptional(from first: Int32, through last: Int32, words markWords: Int, documentCount: Int, scores: UnsafeMutablePointer<Float>,
                             marks: UnsafeMutablePointer<UInt64>, wordScores: UnsafeMutablePointer<Float>,
                             wordMarks: UnsafeMutablePointer<UInt64>) throws {
        let candidates = Self.count(marks, words: markWords)
        var summing = true
        try optional.forEach { scorer in
            guard summing, scorer.sumsCheaper(candidates: candidates, span: markWords << 6, documentCount: documentCount) else {
                summing = false
                return
            }
            _ = try scorer.accumulate(from: first, through: last, into: wordScores, marks: wordMarks)
            _ = Self.merge(words: markWords, scores: scores, marks: marks, wordScores: wordScores, wordMarks: wordMarks, intersecting: false)
            summedOptional += 1
        }
    }

    /// Adds one scorer's chunk (`wordScores`, `wordMarks`) to the documents marked in `marks`
    /// and clears it; `intersecting`, the documents it lacks leave the chunk (their sums
    /// cleared). Returns whether any document is left.
    private static func merge(words markWords: Int, scores: UnsafeMutablePointer<Float>, marks: UnsafeMutablePointer<UInt64>,
                              wordScores: UnsafeMutablePointer<Float>, wordMarks: UnsafeMutablePointer<UInt64>, intersecting: Bool) -> Bool {
        var left: UInt64 = 0
        for word in 0..<markWords {
            let both = marks[word] & wordMarks[word]
            if intersecting {
                var dropped = marks[word] & ~both
                while dropped != 0 {
                    scores[word << 6 + dropped.trailingZeroBitCount] = 0
                    dropped &= dropped &- 1
                }
                marks[word] = both
            }
            var present = wordMarks[word]
            while present != 0 {
                let offset = word << 6 + present.trailingZeroBitCount
                if both & (1 << UInt64(present.trailingZeroBitCount)) != 0 { scores[offset] += wordScores[offset] }
                wordScores[offset] = 0
                present &= present &- 1
            }
            wordMarks[word] = 0
            left |= marks[word]
        }
        return left != 0
    }

    /// Walks the chunk's marked documents from `first` (`words` marks long): where `score`
    /// gives a value the document stays and the value is added to its sum, where it gives nil
    /// the document leaves the chunk (its sum cleared). Returns whether any document is left.
    @inline(__always)
    private static func keep(from first: Int32, words: Int, scores: UnsafeMutablePointer<Float>, marks: UnsafeMutablePointer<UInt64>,
                             _ score: (Int32) throws -> Float?) rethrows -> Bool {
        var left: UInt64 = 0
        for word in 0..<words {
            var bits = marks[word]
            while bits != 0 {
                let offset = word << 6 + bits.trailingZeroBitCount
                if let value = try score(first &+ Int32(offset)) {
                    scores[offset] += value
                } else {
                    marks[word] &= ~(1 << UInt64(bits.trailingZeroBitCount))
                    scores[offset] = 0
                }
                bits &= bits &- 1
            }
            left |= marks[word]
        }
        return left != 0
    }

    /// The next document of the rarest required scorer, which `collect` reads first and which
    /// every match is in (-1 before the first `collect`).
    var leadDoc: Int32 { required.firstDoc }

    /// Whether a required scorer has no documents left: nothing more matches.
    var isExhausted: Bool {
        var exhausted = false
        required.forEach { exhausted = exhausted || $0.doc == PostingsCursor.exhausted }
        return exhausted
    }

    override func score() throws -> Float { try score(above: -.infinity) }

    override func score(above threshold: Float) throws -> Float {
        var sum: Float = 0
        try required.forEach { sum += try $0.score() }
        return try addingOptional(to: sum, at: doc, from: 0, above: threshold)
    }

    /// `partialSum` (the required scorers' scores of `doc` and the first `start` optional ones')
    /// plus the scores of the other optional scorers that have `doc`, or any value not above
    /// `threshold` when the sum cannot beat it.
    func addingOptional(to partialSum: Float, at doc: Int32, from start: Int, above threshold: Float) throws -> Float {
        var sum = partialSum
        // Optional scorers are looked up only while the document can still beat the threshold
        // (the strongest first, those that read positions last).
        var others = optionalBounds[start]
        var beaten = false
        try optional.forEach(from: start) { scorer in
            if beaten || sum + others <= threshold {
                beaten = true
                return
            }
            others -= scorer.maxScore
            sum += try scorer.score(ifAt: doc, above: threshold - sum - others)
        }
        return sum
    }

    override func advanceShallow(to target: Int32) -> Int32 { scoring.advanceShallow(to: target) }

    override func maxScore(upTo last: Int32) -> Float { scoring.maxScore(upTo: last) }
}

/// Scores documents where every part of a query compound stands as a word within `window` words
/// of the first part, in any order ("Mangel an Impfstoff" for `Impfstoffmangel`): BM25 over the
/// number of such places, with the parts' idf summed. (Parts inside other compounds are not
/// counted: their lists have no positions, which on the known-item set changed no figure by
/// more than 0.002 and saved a quarter of the positions.)
///
/// Reading positions is what costs (`isCostly`): the top-k loop asks for a score only while the
/// document can still rank, and positions are read only when the parts' frequencies allow a
/// score that could matter. Where the parts' own lists are scored beside it (they bring up every
/// document that has all parts), the scorer matches every document with all parts and counts
/// the places only when asked for a score; otherwise a document matches only with a place.
final class NearScorer: DocumentScorer {
    private var parts: [PostingsCursor]
    private let window: Int32
    private let weight: Float
    private let scoring: FieldScoring
    /// Whether a document needs a place to match (false: all parts suffice).
    private let placesDecideMatches: Bool
    private var positions: [[Int32]]
    /// The parts' places in `parts`, the one in the fewest documents first: a document is
    /// looked for in the rarest part's list first, and a frequent part's list (`erst` of
    /// `Erstaufführung`) is moved only to documents the others have.
    private let rarestFirst: [Int]
    private var frequency: Float = 0
    /// The document whose places `frequency` counts.
    private var counted: Int32 = -1

    /// A scorer of the parts whose lists (as words) are `parts`; `placesDecideMatches` when
    /// nothing else brings up the documents with all parts.
    init(_ parts: [PostingsCursor], window: Int, weight: Float, scoring: FieldScoring, placesDecideMatches: Bool) {
        self.parts = parts
        self.window = Int32(window)
        self.weight = weight
        self.scoring = scoring
        self.placesDecideMatches = placesDecideMatches
        positions = Array(repeating: [], count: parts.count)
        rarestFirst = parts.indices.sorted { parts[$0].docFreq < parts[$1].docFreq }
        super.init(maxScore: weight * scoring.saturation * 1.0001, isCostly: true)
    }

    override var cost: Int { parts.map(\.docFreq).min() ?? 0 }

    override func advance(to target: Int32) throws -> Int32 {
        if doc >= target { return doc }
        var target = target
        outer: while true {
            for index in rarestFirst {
                guard try parts[index].advance(to: target) else { break outer }
                if parts[index].doc != target {
                    target = parts[index].doc
                    continue outer
                }
            }
            try scoring.check(target)
            doc = target
            if try !placesDecideMatches || placeCount() > 0 { return doc }
            target += 1
        }
        doc = PostingsCursor.exhausted
        return doc
    }

    override func score(ifAt target: Int32) throws -> Float {
        try score(ifAt: target, above: -.infinity)
    }

    override func score(ifAt target: Int32, above threshold: Float) throws -> Float {
        if doc >= target { return doc == target ? try score(above: threshold) : 0 }
        doc = target
        for index in rarestFirst {
            guard try parts[index].advance(to: target) else {
                doc = PostingsCursor.exhausted
                return 0
            }
            if parts[index].doc != target { return 0 }
        }
        try scoring.check(target)
        return try score(above: threshold)
    }

    override func score() throws -> Float {
        let frequency = try placeCount()
        return frequency > 0 ? scoring.score(freq: frequency, weight: weight, doc: doc) : 0
    }

    /// Reads positions only when the bound from the parts' frequencies can beat `threshold`:
    /// there are no more places than the first part has positions, nor more than each other
    /// part's positions can reach (a window on either side of each).
    override func score(above threshold: Float) throws -> Float {
        if counted != doc {
            var places = Int(parts[0].freq)
            for index in 1..<parts.count { places = min(places, Int(parts[index].freq) * (2 * Int(window) + 1)) }
            if scoring.score(freq: Float(places), weight: weight, doc: doc) * 1.0001 <= threshold { return 0 }
        }
        return try score()
    }

    override var currentFrequency: Float { counted == doc ? frequency : 0 }

    /// Places where every part stands within the window of the first part, in the current
    /// document (counted once per document).
    private func placeCount() throws -> Float {
        if counted == doc { return frequency }
        for index in parts.indices { try parts[index].positions(into: &positions[index]) }
        var count = 0
        for anchor in positions[0] {
            var all = true
            for other in 1..<parts.count where !positions[other].contains(where: { abs($0 - anchor) <= window }) {
                all = false
                break
            }
            if all { count += 1 }
        }
        counted = doc
        frequency = Float(count)
        return frequency
    }
}

/// The documents of a filter (`date:2020-03`, `source:zeit*`) as a bit per document, scoring 0:
/// the union of many lists is set bit by bit as they are decoded, with no sorting.
final class DocumentSetScorer: DocumentScorer {
    private var words: [UInt64]

    /// An empty set over `documentCount` documents.
    init(documentCount: Int) {
        words = Array(repeating: 0, count: (documentCount + 63) / 64)
        super.init(maxScore: 0)
    }

    /// Adds `doc` (before the first `advance`).
    func insert(_ doc: Int32) {
        words[Int(doc) >> 6] |= 1 << UInt64(doc & 63)
    }

    override func advance(to target: Int32) throws -> Int32 {
        if doc >= target { return doc }
        var index = Int(target) >> 6
        guard index < words.count else {
            doc = PostingsCursor.exhausted
            return doc
        }
        // The current word without the bits below the target, then whole words.
        var word = words[index] & (~0 << UInt64(target & 63))
        while word == 0 {
            index += 1
            guard index < words.count else {
                doc = PostingsCursor.exhausted
                return doc
            }
            word = words[index]
        }
        doc = Int32(index << 6 + word.trailingZeroBitCount)
        return doc
    }

    override func score() throws -> Float { 0 }
}
