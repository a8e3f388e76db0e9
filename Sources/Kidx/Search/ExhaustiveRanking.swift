/// The reference ranking the pruned document-at-a-time search is tested against: every posting
/// of every clause scored term at a time into an accumulator.
extension SegmentSearcher {
    /// Scores every matching document term at a time and keeps the best `k`: the reference the
    /// pruned `rank` must equal (tests compare them). Reads a flat query: a group of clauses,
    /// those without an operator combined as `mode` says, function words optional, excluded
    /// clauses (`-word`) ruling documents out.
    func rankExhaustively(_ query: Query, k: Int, mode: SearchOptions.Mode) throws -> (complete: [TopK.Entry], partial: [TopK.Entry], total: Int) {
        guard case .group(let members) = query.root else { preconditionFailure("the top of a query is a group") }
        // Clause i marks bit i; bit 63 marks documents matched by a compound's parts alone,
        // which match no clause but do count as hits of `.any`.
        let partsOnly: UInt64 = 1 << 63
        let clauses = Array(query.clauses.prefix(63))
        // The clauses a document must have when words without an operator are required (`all`),
        // and when they are not (`.any`, and the fill of `.allFirst`); those it must not have.
        var allRequired: UInt64 = 0, anyRequired: UInt64 = 0, excluded: UInt64 = 0
        for (index, member) in members.prefix(63).enumerated() {
            let bit = UInt64(1) << UInt64(index)
            if occur(member, unwritten: .must) == .must { allRequired |= bit }
            if occur(member, unwritten: .should) == .must { anyRequired |= bit }
            if member.occur == .mustNot { excluded |= bit }
        }
        defer { accumulator.reset() }
        for (index, clause) in clauses.enumerated() {
            let bit = UInt64(1) << UInt64(index)
            let isExcluded = excluded & bit != 0
            for field in clause.fields {
                if clause.isPhrase {
                    try scorePhrase(clause, field: field, boost: field == .title ? ranking.titleBoost : 1, bit: bit)
                    continue
                }
                // Parts of a compound found anywhere add to the score without matching the clause
                // (an excluded compound's parts rule documents out, as its scorer matches them).
                for list in wordLists(clause, field: field) {
                    try scoreTerm(list.key, field: field, boost: list.boost, bit: list.isPart && !isExcluded ? partsOnly : bit)
                }
            }
        }
        // Nearness only adds to documents that match already (bit 0).
        let scored = clauses.indices.filter { excluded & (UInt64(1) << UInt64($0)) == 0 }.map { clauses[$0] }
        for scorer in try scored.flatMap({ try nearComponents(of: $0) }).map(\.scorer) {
            var doc = try scorer.advance(to: 0)
            while doc != PostingsCursor.exhausted {
                accumulator.add(Int(doc), score: try scorer.score(), bit: 0)
                doc = try scorer.advance(to: doc + 1)
            }
        }
        // Documents with every clause, and (`.allFirst`) after them the others.
        var complete = TopK(k: k), partial = TopK(k: k)
        var total = 0
        let required = mode == .any ? anyRequired : allRequired
        for doc in accumulator.touched where isLive(doc) {
            let mask = accumulator.matched[Int(doc)]
            if mask & excluded != 0 { continue }
            if mask & required == required {
                complete.insert(doc: doc, score: accumulator.scores[Int(doc)])
            } else if mode == .allFirst, mask & anyRequired == anyRequired {
                partial.insert(doc: doc, score: accumulator.scores[Int(doc)])
            } else {
                continue
            }
            total += 1
        }
        return (complete.sorted(), partial.sorted(), total)
    }

    private func accumulate(doc: Int32, freq: Float, weight: Float, field: Field, bit: UInt64) throws {
        let scoring = fieldScoring[field]!
        try scoring.check(doc)
        accumulator.add(Int(doc), score: scoring.score(freq: freq, weight: weight, doc: doc), bit: bit)
    }

    private func scoreTerm(_ key: [UInt8], field: Field, boost: Float, bit: UInt64) throws {
        guard var cursor = try reader.postings(key) else { return }
        let weight = boost * idf(key, local: cursor.docFreq)
        while try cursor.next() {
            try accumulate(doc: cursor.doc, freq: Float(cursor.freq), weight: weight, field: field, bit: bit)
        }
    }

    private func scorePhrase(_ clause: Query.Clause, field: Field, boost: Float, bit: UInt64) throws {
        var cursors: [PostingsCursor] = []
        var weight: Float = 0
        for term in clause.terms {
            guard let cursor = try reader.postings(field.key(term.term)) else { return }
            cursors.append(cursor)
            weight += boost * idf(field.key(term.term), local: cursor.docFreq)
        }
        while positionBuffers.count < cursors.count { positionBuffers.append([]) }
        var target: Int32 = 0
        outer: while true {
            var agreed = true
            for index in cursors.indices {
                guard try cursors[index].advance(to: target) else { break outer }
                if cursors[index].doc != target {
                    target = cursors[index].doc
                    agreed = false
                }
            }
            guard agreed else { continue }
            let count = try phraseCount(&cursors, offsets: clause.terms.map(\.offset))
            if count > 0 {
                try accumulate(doc: target, freq: Float(count), weight: weight, field: field, bit: bit)
            }
            target += 1
        }
    }

    /// How often the terms stand at their offsets in the current document; a stop word (a list
    /// without positions) matches any word, and a phrase of stop words only counts as often as
    /// its least frequent word.
    private func phraseCount(_ cursors: inout [PostingsCursor], offsets: [Int]) throws -> Int {
        let placed = cursors.indices.filter { cursors[$0].hasPositions }
        guard let first = placed.first else { return Int(cursors.map(\.freq).min() ?? 0) }
        for index in placed { try cursors[index].positions(into: &positionBuffers[index]) }
        var count = 0
        for start in positionBuffers[first] {
            let anchor = Int(start) - offsets[first]
            var all = true
            for index in placed.dropFirst() {
                let wanted = Int32(anchor + offsets[index])
                if !Self.contains(positionBuffers[index], wanted) { all = false; break }
            }
            if all { count += 1 }
        }
        return count
    }

    private static func contains(_ sorted: [Int32], _ value: Int32) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] == value
    }
}
