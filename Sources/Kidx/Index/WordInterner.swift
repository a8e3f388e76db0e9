import Foundation

/// Numbers the distinct words of a field as the writer meets them, without a heap allocation or
/// a `String` per token: the words' bytes live in one arena, found through an open-addressing
/// table of word numbers keyed by a multiplicative hash of the bytes.
struct WordInterner {
    /// Every word's bytes, one after the other; word `n` spans `starts[n]..<starts[n + 1]`.
    private var arena: [UInt8] = []
    private var starts: [Int32] = [0]
    private var hashes: [UInt32] = []
    /// Word numbers by hash slot; -1 for an empty slot. The count is a power of two.
    private var slots = [Int32](repeating: -1, count: 1 << 12)

    /// How many distinct words there are.
    var count: Int { hashes.count }

    /// The number of `word`, adding it when new.
    mutating func intern(_ word: UnsafeBufferPointer<UInt8>) -> (id: Int, isNew: Bool) {
        let hash = Self.hash(word)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == hash, matches(Int(id), word) { return (Int(id), false) }
            slot = (slot + 1) & mask
        }
        let id = hashes.count
        slots[slot] = Int32(id)
        hashes.append(hash)
        arena.append(contentsOf: word)
        starts.append(Int32(arena.count))
        if hashes.count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// The number of `word`, or nil when it was never interned.
    func id(of word: String) -> Int? {
        var word = word
        return word.withUTF8 { bytes in
            let hash = Self.hash(bytes)
            let mask = slots.count - 1
            var slot = Int(hash) & mask
            while slots[slot] >= 0 {
                let id = Int(slots[slot])
                if hashes[id] == hash, matches(id, bytes) { return id }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    /// Word number `id` as a string.
    func word(_ id: Int) -> String {
        arena.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[Int(starts[id])..<Int(starts[id + 1])]), as: UTF8.self) }
    }

    private func matches(_ id: Int, _ word: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(starts[id]), end = Int(starts[id + 1])
        guard end - start == word.count else { return false }
        return arena.withUnsafeBufferPointer { arena in
            word.isEmpty || memcmp(arena.baseAddress! + start, word.baseAddress!, word.count) == 0
        }
    }

    private mutating func grow() {
        var larger = [Int32](repeating: -1, count: slots.count * 2)
        let mask = larger.count - 1
        for (id, hash) in hashes.enumerated() {
            var slot = Int(hash) & mask
            while larger[slot] >= 0 { slot = (slot + 1) & mask }
            larger[slot] = Int32(id)
        }
        slots = larger
    }

    /// FNV-1a over the bytes, with a final mix so the low bits (the slot) depend on every byte.
    private static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in word { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash ^= hash >> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }
}
