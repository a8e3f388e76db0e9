/// Several posting lists read as one: a document is on it when any list has it, and its
/// positions are all of theirs. Serves a word that may stand alone or inside compounds.
struct UnionCursor {
    private var cursors: [PostingsCursor]
    /// The current document, or `PostingsCursor.exhausted`.
    private(set) var doc: Int32 = -1

    /// Largest document frequency of the lists (an estimate of the union's, for idf).
    let docFreq: Int

    init(_ cursors: [PostingsCursor]) {
        self.cursors = cursors
        docFreq = cursors.map(\.docFreq).max() ?? 0
    }

    /// Moves to the first document at or after `target`. Returns false at the end.
    mutating func advance(to target: Int32) throws -> Bool {
        var smallest = PostingsCursor.exhausted
        for index in cursors.indices {
            if cursors[index].doc < target { _ = try cursors[index].advance(to: target) }
            smallest = min(smallest, cursors[index].doc)
        }
        doc = smallest
        return doc != PostingsCursor.exhausted
    }

    /// How often the current document has the word, in all lists together.
    var frequency: Int {
        var sum = 0
        // By index: iterating the array would copy each cursor (and retain its buffers).
        for index in cursors.indices where cursors[index].doc == doc { sum += Int(cursors[index].freq) }
        return sum
    }

    /// The positions of the current document in every list that has it, ascending.
    mutating func positions(into output: inout [Int32], scratch: inout [Int32]) throws {
        output.removeAll(keepingCapacity: true)
        var lists = 0
        for index in cursors.indices where cursors[index].doc == doc {
            try cursors[index].positions(into: &scratch)
            output.append(contentsOf: scratch)
            lists += 1
        }
        if lists > 1 { output.sort() }
    }
}
