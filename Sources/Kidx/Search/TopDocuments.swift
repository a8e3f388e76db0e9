/// Finds the best `k` documents of a query document at a time, skipping documents that cannot
/// enter the top `k`. Exact: the result equals scoring every document (up to float rounding of
/// equal scores), which `Searcher.rankExhaustively` checks in the tests.
enum TopDocuments {
    /// The best `k` documents of the sum of `scorers` that `accept` lets through, among those
    /// scoring above `floor` (the k-th score found in other segments: nothing at or below it
    /// can make the index's top k, so it prunes from the first document on).
    ///
    /// MaxScore (Turtle & Flood 1995) over windows of document ids with block-max bounds (Ding &
    /// Suel 2011): per window, the scorers are ordered by their bound in the window per document
    /// they hold (as Lucene's `MaxScoreBulkScorer` orders them); the first whose bounds together
    /// cannot beat the k-th best score are "non-essential" and only looked up for documents the
    /// others bring up, and only while the document can still make it. A window where no
    /// document can make it is skipped without decoding a block.
    /// Within a window, the essential lists' scores are summed into an array a chunk of
    /// documents at a time (as Lucene's bulk scorers do), and the chunk's documents taken in
    /// order from it: a document costs a slot of the array, not a pass over every essential list.
    ///
    /// With `seeds` (a scratch accumulator over the segment's documents), the loop starts from
    /// the threshold the short lists alone prove (`provenThreshold`) instead of from nothing.
    ///
    /// Where some scorers are `required` (a required word's lists, beside its compound parts),
    /// a document must be in one of them: the others are then never essential, and they may
    /// be, by MaxScore's rule, only while the required ones are all essential.
    static func sum(of scorers: [DocumentScorer], required: [Bool] = [], k: Int, documentCount: Int, above floor: Float = -.infinity,
                    seeds: ScoreAccumulator? = nil, minimumWindow: Int32 = defaultMinimumWindow,
                    accept: (Int32) throws -> Bool = { _ in true }) throws -> [TopK.Entry] {
        guard k > 0, !scorers.isEmpty else { return [] }
        var floor = floor
        if let seeds {
            if let top = try bestOfShortLists(scorers, required: required, k: k, above: floor, seeds: seeds, accept: accept) { return top }
            floor = max(floor, try provenThreshold(scorers, required: required, k: k, seeds: seeds, accept: accept))
        }
        return try withExtendedLifetime(scorers) {
            var slots = scorers.indices.map { Slot(scorer: scorers[$0], isRequired: $0 < required.count && required[$0]) }
            return try sum(&slots, k: k, end: Int32(documentCount), floor: floor, minimumWindow: minimumWindow, accept: accept)
        }
    }

    /// A score the k-th best document is known to reach, from the lists short enough to read
    /// whole beforehand (an initial threshold, as Kane & Tompa 2018 give WAND): summed over
    /// those lists alone, a document scores no more than its full score, so the k-th best of
    /// these partial sums is a floor under the final k-th score. Without it the loop starts at
    /// zero and scores most documents of the first windows before its heap holds good ones
    /// (FANG, 197 OR queries: 15 % more instructions per query).
    ///
    /// Lists of at most 1/32 of the documents are read: longer ones cost more to read than the
    /// pruning they buy (1/8 and 1/16 were slower, 1/64 no faster). Lowered by 0.01 %, as
    /// summing in another order may round a document's full score below its partial sum.
    /// With `required` scorers, only their lists are read: a document must be in one.
    static func provenThreshold(_ scorers: [DocumentScorer], required: [Bool] = [], k: Int, seeds: ScoreAccumulator,
                                accept: (Int32) throws -> Bool) throws -> Float {
        defer { seeds.reset() }
        let limit = max(seeds.count / 32, 128)
        let hasRequired = required.contains(true)
        // Weak lists (bounds under a fifth of the strongest: words inside compounds, parts)
        // add little to any sum for what reading them costs (FANG OR: 3 % fewer instructions).
        let strongest = scorers.map(\.maxScore).max() ?? 0
        for (index, scorer) in scorers.enumerated()
        where !scorer.isCostly && (!hasRequired || required[index]) && scorer.maxScore >= strongest / 5 {
            _ = try scorer.addScores(ifAtMost: limit, to: seeds)
        }
        guard seeds.touchedCount >= k else { return -.infinity }
        let top = try best(of: seeds, k: k, above: -.infinity, accept: accept)
        // Documents that score 0 (filters in an OR) rank too: only a positive score is a floor.
        return top.threshold > 0 ? top.threshold * 0.9999 : -.infinity
    }

    /// The best `k` documents when every scorer is a posting list and together they hold few
    /// documents (at most a sixteenth of `seeds`' documents): each list read whole into
    /// `seeds`, which then holds every document's full score, as `ExhaustiveRanking` sums them.
    /// Nil, reading nothing, otherwise. Short lists leave MaxScore little to skip: it would read
    /// them all the same, at the cost of its windows, its order and a lookup per candidate.
    /// FANG's 101 one-word queries, instructions each, OR / AND: 242.3 k / 219.2 k before,
    /// 228.1 k / 204.7 k with a sixteenth (an eighth: 233.1 k OR, a quarter 236.5 k, a half
    /// 251.8 k; 1,024 documents 231.6 k); two- and three-word queries within 0.7 %.
    static func bestOfShortLists(_ scorers: [DocumentScorer], required: [Bool], k: Int, above floor: Float, seeds: ScoreAccumulator,
                                 accept: (Int32) throws -> Bool) throws -> [TopK.Entry]? {
        let budget = max(seeds.count / 16, BitPacking.blockSize)
        var total = 0
        for scorer in scorers {
            guard !scorer.isCostly, scorer.listsWhole else { return nil }
            total += scorer.cost
            if total > budget { return nil }
        }
        // A document must be in a required list: its alternatives only add.
        if required.contains(true) { return nil }
        defer { seeds.reset() }
        for scorer in scorers {
            guard try scorer.addScores(ifAtMost: budget, to: seeds) else { return nil }
        }
        return try best(of: seeds, k: k, above: floor, accept: accept).sorted()
    }

    /// The best `k` of the documents `seeds` holds, by their sums, among those above `floor`
    /// that `accept` lets through. A document below the k-th so far is neither asked about nor
    /// inserted (FANG OR queries: 448.1 k → 439.0 k instructions); at the k-th score a lower
    /// document number still ranks first (`TopK.insert` decides).
    private static func best(of seeds: ScoreAccumulator, k: Int, above floor: Float, accept: (Int32) throws -> Bool) rethrows -> TopK {
        var top = TopK(k: k)
        for doc in seeds.touched {
            let score = seeds.scores[Int(doc)]
            if score > floor, score >= top.threshold, try accept(doc) { top.insert(doc: doc, score: score) }
        }
        return top
    }

    /// A scorer as the MaxScore loop holds it: not retained (the caller keeps the scorers alive;
    /// reference counting cost more than the scoring itself) and with its document cached.
    private struct Slot {
        let reference: Unmanaged<DocumentScorer>
        var doc: Int32 = -1
        let maxScore: Float
        /// Scored after the others, only while the document can still make it.
        let isCostly: Bool
        /// A document must be in one of the required scorers (when there are any).
        let isRequired: Bool
        /// Moved to each window's start, so that its bound there is 0 when it has nothing in it.
        let movesCheaply: Bool
        /// About how many documents the scorer stops at.
        let cost: Float
        /// The bound in the current window.
        var bound: Float = 0
        /// The bound per document the scorer stops at: the window's order.
        var boundPerCost: Float = 0

        init(scorer: DocumentScorer, isRequired: Bool) {
            reference = .passUnretained(scorer)
            self.isRequired = isRequired
            maxScore = scorer.maxScore
            isCostly = scorer.isCostly
            movesCheaply = scorer.movesCheaply
            cost = Float(max(scorer.cost, 1))
        }

        mutating func advance(to target: Int32) throws -> Int32 {
            if doc < target { doc = try reference._withUnsafeGuaranteedRef { try $0.advance(to: target) } }
            return doc
        }

        func score() throws -> Float { try reference._withUnsafeGuaranteedRef { try $0.score() } }

        /// Adds the scores of the scorer's documents from `first` through `last` to `scores`
        /// (at the document's offset from `first`) and marks them in `marks`.
        mutating func accumulate(from first: Int32, through last: Int32, into scores: UnsafeMutablePointer<Float>,
                                 marks: UnsafeMutablePointer<UInt64>) throws {
            if doc > last { return }
            doc = try reference._withUnsafeGuaranteedRef { try $0.accumulate(from: first, through: last, into: scores, marks: marks) }
        }

        mutating func score(ifAt target: Int32) throws -> Float {
            if doc > target { return 0 }
            if doc == target { return try score() }
            let score = try reference._withUnsafeGuaranteedRef { try $0.score(ifAt: target) }
            doc = reference._withUnsafeGuaranteedRef { $0.doc }
            return score
        }

        /// `score(ifAt:)` for a costly scorer: any value not above `threshold` when the
        /// score cannot beat it.
        mutating func score(ifAt target: Int32, above threshold: Float) throws -> Float {
            if doc > target { return 0 }
            let score = try reference._withUnsafeGuaranteedRef { try $0.score(ifAt: target, above: threshold) }
            doc = reference._withUnsafeGuaranteedRef { $0.doc }
            return score
        }

        func score(above threshold: Float) throws -> Float { try reference._withUnsafeGuaranteedRef { try $0.score(above: threshold) } }

        func advanceShallow(to target: Int32) -> Int32 { reference._withUnsafeGuaranteedRef { $0.advanceShallow(to: target) } }

        func maxScore(upTo last: Int32) -> Float { reference._withUnsafeGuaranteedRef { $0.maxScore(upTo: last) } }
    }

    /// Whether `a` goes after `b` in a window's order: the least bound per document first, and
    /// with required scorers the optional ones before them all (never essential).
    ///
    /// By bound alone, a word's long stem list stayed essential where its shorter exact-form
    /// list (every document of which is in the stem list) can bring up the documents that make
    /// it: per document, the lists a document can do without cost the most to move through
    /// (FANG, 197 OR queries: 680.9 k → 607.6 k instructions each, the top 10 the same; AND
    /// queries, mostly conjunctions, 656.9 k → 656.0 k). Choosing them greedily, as Lucene
    /// does, letting a smaller list in after one that does not fit: 617.5 k.
    private static func goesAfter(_ a: Slot, _ b: Slot) -> Bool {
        a.isRequired != b.isRequired ? a.isRequired : a.boundPerCost > b.boundPerCost
    }

    /// The fewest document ids a window spans (the skip data may give more): each window costs a
    /// bound from every scorer, and narrower windows cost more than they prune. FANG, 197
    /// queries, instructions each (OR / AND): 461.1 k / 529.4 k at 2,048 ids, 451.7 k / 522.7 k at
    /// 4,096, 447.9 k / 520.4 k at 8,192, 446.7 k / 518.0 k at 16,384 (where two windows cover
    /// the corpus); in time, 40 alternating runs each put all four within 2 % of each other.
    /// (Earlier: 2,048 took 7 % fewer instructions than 128.)
    static let defaultMinimumWindow: Int32 = 8192

    /// The documents a chunk of a window holds: a multiple of 64 (the marks' word). Summing the
    /// essential lists a chunk at a time, instead of finding each candidate as the smallest
    /// document of every essential list, took FANG's OR queries from 892 k to 767 k
    /// instructions each (1,024 documents: 768 k, 2,048: 772 k).
    private static let chunkSize = 512

    /// `end`: windows stop at the last document (a tail's bound reaches to the end of the id space).
    ///
    /// The slots themselves are kept in each window's order and read through a buffer pointer:
    /// an order array beside them, and the bounds checks of reading through it, cost 3.4 % of
    /// the instructions of a FANG OR query.
    private static func sum(_ slots: inout [Slot], k: Int, end: Int32, floor: Float, minimumWindow: Int32,
                            accept: (Int32) throws -> Bool) throws -> [TopK.Entry] {
        var top = TopK(k: k)
        let count = slots.count
        var threshold = floor
        // prefix[i]: the sum of the bounds of slots[0...i], the weakest first.
        var prefixSums = [Float](repeating: 0, count: count)
        // A chunk's summed scores and which of its documents have one (cleared as they are read).
        let scores = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunkSize)
        scores.initialize(repeating: 0)
        let markWords = chunkSize / 64
        let marks = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: markWords)
        marks.initialize(repeating: 0)
        // The places of the costly slots in the window's order, the last first.
        let costlyPlaces = UnsafeMutableBufferPointer<Int>.allocate(capacity: slots.count(where: \.isCostly))
        defer {
            scores.deallocate()
            marks.deallocate()
            costlyPlaces.deallocate()
        }
        var target: Int32 = 0
        // With required scorers, the others come first in the order and are never essential.
        let optionalCount = slots.contains(where: \.isRequired) ? slots.count(where: { !$0.isRequired }) : 0

        try slots.withUnsafeMutableBufferPointer { slots in
            try prefixSums.withUnsafeMutableBufferPointer { prefix in
                windows: while target < end {
                    // Done when the lists not yet exhausted cannot beat the k-th score anywhere.
                    var remaining: Float = 0
                    var windowEnd = end - 1
                    var requiredLeft = optionalCount == 0
                    for index in 0..<count where slots[index].movesCheaply && slots[index].doc < target {
                        _ = try slots[index].advance(to: target)
                    }
                    for index in 0..<count where slots[index].doc < end {
                        remaining += slots[index].maxScore
                        windowEnd = min(windowEnd, slots[index].advanceShallow(to: target))
                        requiredLeft = requiredLeft || slots[index].isRequired
                    }
                    if remaining <= threshold || !requiredLeft { break }
                    windowEnd = max(windowEnd, min(target &+ (minimumWindow - 1), end - 1))
                    for index in 0..<count {
                        slots[index].bound = slots[index].doc >= end ? 0 : slots[index].maxScore(upTo: windowEnd)
                        slots[index].boundPerCost = slots[index].bound / slots[index].cost
                    }
                    // Insertion sort: a handful of scorers, mostly in order from the last window.
                    for index in 1..<max(count, 1) {
                        let moving = slots[index]
                        var place = index
                        while place > 0, goesAfter(slots[place - 1], moving) {
                            slots[place] = slots[place - 1]
                            place -= 1
                        }
                        slots[place] = moving
                    }
                    var sum: Float = 0, costly = 0
                    for index in 0..<count {
                        sum += slots[index].bound
                        prefix[index] = sum
                    }
                    for index in stride(from: count - 1, through: 0, by: -1) where slots[index].isCostly {
                        costlyPlaces[costly] = index
                        costly += 1
                    }
                    var firstEssential = optionalCount
                    while firstEssential < count, prefix[firstEssential] <= threshold { firstEssential += 1 }

                    // The window a chunk at a time: the essential lists' scores of the chunk summed
                    // per document, then each document they hold in turn.
                    var chunkStart = target
                    while chunkStart <= windowEnd, firstEssential < count {
                        let chunkEnd = min(windowEnd, chunkStart &+ Int32(chunkSize - 1))
                        // The lists essential for the whole chunk (the threshold rising within it
                        // only makes later chunks' lists fewer).
                        let essential = firstEssential
                        for index in essential..<count where !slots[index].isCostly {
                            try slots[index].accumulate(from: chunkStart, through: chunkEnd, into: scores.baseAddress!, marks: marks.baseAddress!)
                        }
                        var word = 0, bits = marks[0]
                        marks[0] = 0
                        var next = chunkStart
                        while true {
                            while bits == 0, word < markWords - 1 {
                                word += 1
                                bits = marks[word]
                                marks[word] = 0
                            }
                            let marked = bits == 0 ? PostingsCursor.exhausted : chunkStart + Int32(word * 64 + bits.trailingZeroBitCount)
                            // Costly essential scorers bring their documents up without a score.
                            var doc = marked
                            for index in costlyPlaces where index >= essential {
                                doc = min(doc, try slots[index].advance(to: next))
                            }
                            if doc > chunkEnd { break }
                            // The cheap essential scores are summed; then the other cheap scorers are
                            // looked up, the most bound per document first (the strongest first took
                            // 649.2 k instructions per OR query against 607.6 k); the costly ones last
                            // (positions are read only when the rest leaves the document a chance).
                            // `unscored` bounds what is not scored yet: once the score plus it cannot
                            // beat the threshold, the document is out.
                            var score: Float = 0
                            if doc == marked {
                                let offset = Int(doc &- chunkStart)
                                score = scores[offset]
                                scores[offset] = 0
                                bits &= bits &- 1
                            }
                            var unscored = essential > 0 ? prefix[essential - 1] : 0
                            for index in costlyPlaces where index >= essential && slots[index].doc == doc {
                                unscored += slots[index].bound
                            }
                            var possible = true
                            for index in stride(from: essential - 1, through: 0, by: -1) where !slots[index].isCostly {
                                if score + unscored <= threshold {
                                    possible = false
                                    break
                                }
                                unscored -= slots[index].bound
                                score += try slots[index].score(ifAt: doc)
                            }
                            if possible {
                                for index in costlyPlaces {
                                    // Essential costly scorers count only on the document; the others are looked up.
                                    let isEssential = index >= essential
                                    if isEssential, slots[index].doc != doc { continue }
                                    if score + unscored <= threshold {
                                        possible = false
                                        break
                                    }
                                    unscored -= slots[index].bound
                                    let above = threshold - score - unscored
                                    score += isEssential ? try slots[index].score(above: above) : try slots[index].score(ifAt: doc, above: above)
                                }
                            }
                            // Every scorer that has the document is on it now (summed or looked up).
                            // With required scorers, the essential ones are all required: the document
                            // is in one of them.
                            if possible, score > threshold, try accept(doc) {
                                top.insert(doc: doc, score: score)
                                threshold = max(top.threshold, floor)
                                while firstEssential < count, prefix[firstEssential] <= threshold { firstEssential += 1 }
                            }
                            next = doc &+ 1
                        }
                        if chunkEnd >= windowEnd { break }
                        chunkStart = chunkEnd + 1
                    }
                    if windowEnd >= end - 1 { break }
                    target = windowEnd + 1
                }
            }
        }
        return top.sorted()
    }

    /// The best `k` documents of a single scorer (a conjunction, a nested query) that `accept`
    /// lets through, among those scoring above `floor`, skipping windows whose bound cannot beat
    /// the k-th score. A conjunction of lists (and sums of lists) finds its documents a chunk
    /// at a time (`ConjunctionScorer.collect`); anything else by moving from match to match.
    static func of(_ scorer: DocumentScorer, k: Int, documentCount: Int, above floor: Float = -.infinity,
                   minimumWindow: Int32 = defaultMinimumWindow, accept: (Int32) throws -> Bool = { _ in true }) throws -> [TopK.Entry] {
        guard k > 0 else { return [] }
        if let conjunction = scorer as? ConjunctionScorer, conjunction.collectsInChunks {
            return try of(conjunction, k: k, documentCount: documentCount, above: floor, minimumWindow: minimumWindow, accept: accept)
        }
        var top = TopK(k: k)
        var target: Int32 = 0
        // Windows stop at the last document: a tail's bound reaches to the end of the id space.
        let end = Int32(documentCount)
        while target < end {
            let windowEnd = max(scorer.advanceShallow(to: target), min(target &+ (minimumWindow - 1), end - 1))
            if scorer.maxScore(upTo: windowEnd) <= max(top.threshold, floor) {
                if windowEnd >= end - 1 { break }
                target = windowEnd + 1
                continue
            }
            var doc = try scorer.advance(to: target)
            while doc <= windowEnd {
                if try accept(doc) {
                    let threshold = max(top.threshold, floor)
                    let score = try scorer.score(above: threshold)
                    if score > threshold { top.insert(doc: doc, score: score) }
                }
                if doc == end - 1 { break }
                doc = try scorer.advance(to: doc + 1)
            }
            if doc >= end || windowEnd >= end - 1 { break }
            target = max(windowEnd + 1, doc)
        }
        return top.sorted()
    }

    /// `of` for a conjunction whose required lists are summed a chunk of documents at a time
    /// (`ConjunctionScorer.collect`), in the same windows.
    private static func of(_ conjunction: ConjunctionScorer, k: Int, documentCount: Int, above floor: Float, minimumWindow: Int32,
                           accept: (Int32) throws -> Bool) throws -> [TopK.Entry] {
        var top = TopK(k: k)
        let end = Int32(documentCount)
        let markWords = chunkSize / 64
        let scores = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2 * chunkSize)
        scores.initialize(repeating: 0)
        let marks = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 2 * markWords)
        marks.initialize(repeating: 0)
        defer {
            scores.deallocate()
            marks.deallocate()
        }
        let (sums, wordScores) = (scores.baseAddress!, scores.baseAddress! + chunkSize)
        let (found, wordMarks) = (marks.baseAddress!, marks.baseAddress! + markWords)
        var target: Int32 = 0
        while target < end, !conjunction.isExhausted {
            // A bound that holds to the end of the id space holds to the last document.
            let windowEnd = min(max(conjunction.advanceShallow(to: target), target &+ (minimumWindow - 1)), end - 1)
            if conjunction.maxScore(upTo: windowEnd) > max(top.threshold, floor) {
                var chunkStart = target
                while chunkStart <= windowEnd {
                    // No match before the rarest list's next document: a chunk starts there,
                    // not collected empty (FANG AND, instructions per query: two words 935.8 k →
                    // 934.3 k, three 667.6 k → 657.8 k).
                    chunkStart = max(chunkStart, conjunction.leadDoc)
                    if chunkStart > windowEnd { break }
                    let chunkEnd = min(windowEnd, chunkStart &+ Int32(chunkSize - 1))
                    try conjunction.collect(from: chunkStart, through: chunkEnd, documentCount: documentCount, scores: sums, marks: found,
                                            wordScores: wordScores, wordMarks: wordMarks)
                    for word in 0..<markWords {
                        var bits = found[word]
                        found[word] = 0
                        while bits != 0 {
                            let offset = word << 6 + bits.trailingZeroBitCount
                            bits &= bits &- 1
                            let doc = chunkStart &+ Int32(offset)
                            let partialSum = sums[offset]
                            sums[offset] = 0
                            guard try accept(doc) else { continue }
                            let threshold = max(top.threshold, floor)
                            let score = try conjunction.addingOptional(to: partialSum, at: doc, from: conjunction.summedOptional, above: threshold)
                            if score > threshold { top.insert(doc: doc, score: score) }
                        }
                    }
                    if chunkEnd >= windowEnd { break }
                    chunkStart = chunkEnd + 1
                }
            }
            if windowEnd >= end - 1 { break }
            target = windowEnd + 1
        }
        return top.sorted()
    }

    /// How many documents `scorer` matches that `accept` lets through.
    static func count(_ scorer: DocumentScorer, accept: (Int32) throws -> Bool = { _ in true }) throws -> Int {
        var count = 0
        var doc = try scorer.advance(to: 0)
        while doc != PostingsCursor.exhausted {
            if try accept(doc) { count += 1 }
            doc = try scorer.advance(to: doc + 1)
        }
        return count
    }
}
