/// Scores and matched-clause masks of every document for one query at a time, plus the list of
/// documents touched, so that a query costs what it touches and resetting is cheap.
///
/// Owns its buffers (allocated once per searcher, freed on deinit) so the scoring loop does no
/// array uniqueness checks.
final class ScoreAccumulator {
    let scores: UnsafeMutableBufferPointer<Float>
    let matched: UnsafeMutableBufferPointer<UInt64>
    private let touchedBuffer: UnsafeMutableBufferPointer<Int32>
    private(set) var touchedCount = 0

    init(documentCount: Int) {
        scores = .allocate(capacity: documentCount)
        scores.initialize(repeating: 0)
        matched = .allocate(capacity: documentCount)
        matched.initialize(repeating: 0)
        touchedBuffer = .allocate(capacity: documentCount)
    }

    deinit {
        scores.deallocate()
        matched.deallocate()
        touchedBuffer.deallocate()
    }

    var count: Int { scores.count }

    /// The documents with a non-zero mask, in the order first touched.
    var touched: UnsafeMutableBufferPointer<Int32> { UnsafeMutableBufferPointer(rebasing: touchedBuffer[0..<touchedCount]) }

    /// Adds `score` to document `index` and marks clause `bit`. A bonus (`bit` 0) only raises
    /// documents that already match.
    @inline(__always)
    func add(_ index: Int, score: Float, bit: UInt64) {
        if matched[index] == 0 {
            guard bit != 0 else { return }
            touchedBuffer[touchedCount] = Int32(index)
            touchedCount += 1
        }
        matched[index] |= bit
        scores[index] += score
    }

    /// Clears what the last query touched.
    func reset() {
        for doc in touched {
            scores[Int(doc)] = 0
            matched[Int(doc)] = 0
        }
        touchedCount = 0
    }
}
