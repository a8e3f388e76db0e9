/// The best `k` (document, score) pairs seen, kept in a bounded min-heap: the weakest of the
/// current best sits at the root, so a candidate is compared once and most are rejected.
struct TopK {
    struct Entry {
        var doc: Int32
        var score: Float

        /// Higher score first; on equal scores the lower document number, for stable results.
        func isBetter(than other: Entry) -> Bool {
            score != other.score ? score > other.score : doc < other.doc
        }
    }

    let k: Int
    private(set) var heap: [Entry] = []

    init(k: Int) {
        self.k = k
        heap.reserveCapacity(k)
    }

    /// The score a candidate must beat once the heap is full.
    var threshold: Float { heap.count == k ? heap[0].score : -.infinity }

    mutating func insert(doc: Int32, score: Float) {
        let entry = Entry(doc: doc, score: score)
        if heap.count < k {
            heap.append(entry)
            siftUp(heap.count - 1)
        } else if k > 0, entry.isBetter(than: heap[0]) {
            heap[0] = entry
            siftDown(0)
        }
    }

    /// The entries, best first.
    func sorted() -> [Entry] { heap.sorted { $0.isBetter(than: $1) } }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent].isBetter(than: heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var weakest = parent
            if left < heap.count, heap[weakest].isBetter(than: heap[left]) { weakest = left }
            if right < heap.count, heap[weakest].isBetter(than: heap[right]) { weakest = right }
            if weakest == parent { return }
            heap.swapAt(parent, weakest)
            parent = weakest
        }
    }
}
