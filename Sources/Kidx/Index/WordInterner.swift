import CPrefetch
import Foundation

/// Numbers the distinct words of a field as the writer meets them, without a heap allocation or
/// a `String` per token: the words' bytes live in one arena, found through an open-addressing
/// table keyed by a multiplicative hash of the bytes.
struct WordInterner {
    /// Every word's bytes, one after the other; word `n` spans `starts[n]..<starts[n + 1]`.
    private var arena: [UInt8] = []
    private var starts: [Int32] = [0]
    /// By hash slot: the low half of a word's `hash(_:)` in the high half and its number plus one
    /// in the low half; 0 for an empty slot. With the hash beside the number, a probe that meets
    /// another word reads nothing else. The count is a power of two.
    private var slots = [UInt64](repeating: 0, count: 1 << 12)

    /// How many distinct words there are.
    var count: Int { starts.count - 1 }

    /// The number of `word`, adding it when new.
    mutating func intern(_ word: UnsafeBufferPointer<UInt8>) -> (id: Int, isNew: Bool) {
        intern(word, hash: Self.tableHash(word))
    }

    /// The half of `hash(_:)` the table keeps: a build's analysis threads compute it beside each
    /// word, so that the one thread that interns them does not, and can prefetch.
    static func tableHash(_ word: UnsafeBufferPointer<UInt8>) -> UInt32 { UInt32(truncatingIfNeeded: hash(word)) }

    /// Starts loading the slot where a word of `tableHash` `hash` is looked for first: the table
    /// of a large field is far bigger than the cache, and its slot was the interning's main wait.
    func prefetch(hash: UInt32) {
        slots.withUnsafeBufferPointer { kidx_prefetch($0.baseAddress! + (Int(hash) & ($0.count - 1))) }
    }

    /// The number of the word the table's first entry of `hash` names, or nil: a guess (another
    /// word may share the hash), for prefetching.
    func probableID(hash: UInt32) -> Int? {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var slot = Int(hash) & mask
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if UInt32(truncatingIfNeeded: entry >> 32) == hash { return Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1 }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Starts loading where word `id`'s bytes begin and end, which interning it compares.
    func prefetchBounds(of id: Int) {
        starts.withUnsafeBufferPointer { kidx_prefetch($0.baseAddress! + id) }
    }

    /// Starts loading word `id`'s bytes, which interning it compares (its bounds loaded before,
    /// see `prefetchBounds`).
    func prefetchBytes(of id: Int) {
        let start = starts.withUnsafeBufferPointer { Int($0[id]) }
        arena.withUnsafeBufferPointer { kidx_prefetch($0.baseAddress! + start) }
    }

    /// `intern(_:)` with the word's `tableHash` already computed.
    mutating func intern(_ word: UnsafeBufferPointer<UInt8>, hash: UInt32) -> (id: Int, isNew: Bool) {
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash, matches(Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1, word) {
                return (Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1, false)
            }
            slot = (slot + 1) & mask
        }
        let id = count
        slots[slot] = UInt64(hash) << 32 | UInt64(id + 1)
        arena.append(contentsOf: word)
        starts.append(Int32(arena.count))
        if count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// The number of `word`, or nil when it was never interned.
    func id(of word: String) -> Int? {
        var word = word
        return word.withUTF8 { id(of: $0) }
    }

    /// The number of the word of these bytes, or nil when it was never interned.
    func id(of word: UnsafeBufferPointer<UInt8>) -> Int? {
        id(of: word, hash: Self.hash(word))
    }

    /// `id(of:)` with the word's `hash(_:)` already computed.
    func id(of word: UnsafeBufferPointer<UInt8>, hash fullHash: UInt64) -> Int? {
        let hash = UInt32(truncatingIfNeeded: fullHash)
        let mask = slots.count - 1
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if UInt32(truncatingIfNeeded: entry >> 32) == hash, matches(Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1, word) {
                return Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
            }
            slot = (slot + 1) & mask
        }
    }

    /// The word numbers in the byte order of their words: radix-sorted by each word's first
    /// eight bytes as one integer, then the runs of words that share those sorted by the rest.
    /// A comparison sort of (prefix, number) pairs took 0.28 s of a two-thread FANG build's
    /// commit for each part's body words, with the other core idle.
    func idsInByteOrder() -> [Int] {
        arena.withUnsafeBytes { arena in
            starts.withUnsafeBufferPointer { starts in
                func arenaBytes(_ id: Int32) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: arena[Int(starts[Int(id)])..<Int(starts[Int(id) + 1])])
                }
                // Big-endian and zero-padded, a prefix orders as its bytes do.
                var prefixes = (0..<Int32(count)).map { id in
                    var prefix: UInt64 = 0
                    for (index, byte) in arenaBytes(id).prefix(8).enumerated() { prefix |= UInt64(byte) << UInt64(56 - 8 * index) }
                    return prefix
                }
                var ids = Array(0..<Int32(count))
                Self.radixSort(&prefixes, carrying: &ids)
                var start = 0
                while start < ids.count {
                    var end = start + 1
                    while end < ids.count, prefixes[end] == prefixes[start] { end += 1 }
                    if end - start > 1 { ids[start..<end].sort { ByteOrder.compare(arenaBytes($0), arenaBytes($1)) < 0 } }
                    start = end
                }
                return ids.map(Int.init)
            }
        }
    }

    /// Sorts `keys` in ascending order and `values` with them, a byte at a time from the least
    /// significant (each pass stable), between two pairs of buffers owned here.
    static func radixSort(_ keys: inout [UInt64], carrying values: inout [Int32]) {
        precondition(keys.count == values.count)
        let count = keys.count
        var from = (keys: UnsafeMutableBufferPointer<UInt64>.allocate(capacity: count), values: UnsafeMutableBufferPointer<Int32>.allocate(capacity: count))
        var to = (keys: UnsafeMutableBufferPointer<UInt64>.allocate(capacity: count), values: UnsafeMutableBufferPointer<Int32>.allocate(capacity: count))
        let starts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 256)
        defer {
            from.keys.deallocate()
            from.values.deallocate()
            to.keys.deallocate()
            to.values.deallocate()
            starts.deallocate()
        }
        _ = from.keys.initialize(from: keys)
        _ = from.values.initialize(from: values)
        for shift in stride(from: UInt64(0), to: 64, by: 8) {
            // Where each byte value's keys start in `to`: the counts of the smaller values.
            starts.initialize(repeating: 0)
            for key in from.keys { starts[Int(truncatingIfNeeded: key &>> shift) & 255] += 1 }
            var total = 0
            for digit in 0..<256 {
                let digitCount = starts[digit]
                starts[digit] = total
                total += digitCount
            }
            for index in 0..<count {
                let digit = Int(truncatingIfNeeded: from.keys[index] &>> shift) & 255
                to.keys[starts[digit]] = from.keys[index]
                to.values[starts[digit]] = from.values[index]
                starts[digit] += 1
            }
            swap(&from, &to)
        }
        keys = Array(from.keys)
        values = Array(from.values)
    }

    /// Word number `id`'s bytes.
    func bytes(_ id: Int) -> [UInt8] { Array(arena[Int(starts[id])..<Int(starts[id + 1])]) }

    /// Calls `body` with word number `id`'s bytes, lent.
    func withBytes<Result>(_ id: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(starts[id])..<Int(starts[id + 1])])) }
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
        var larger = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = larger.count - 1
        for entry in slots where entry != 0 {
            var slot = Int(truncatingIfNeeded: entry >> 32) & mask
            while larger[slot] != 0 { slot = (slot + 1) & mask }
            larger[slot] = entry
        }
        slots = larger
    }

    /// A 64-bit hash of the bytes, eight at a time: the table keeps its low half (slot and
    /// check), `LexiconTable`'s filter uses the high half. Byte-at-a-time FNV-1a chained one
    /// multiplication per byte and was most of a lookup's own work in the decompounder, which
    /// looks up every piece of every candidate split.
    static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(word.count)
        guard let base = UnsafeRawPointer(word.baseAddress) else { return mix(hash) }
        var offset = 0
        while offset + 8 <= word.count {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset += 8
        }
        if offset < word.count {
            // The last bytes as one little-endian number, read in at most three loads: byte by
            // byte, they took most of a short word's hash (76 instructions a word).
            let remaining = word.count - offset
            var rest: UInt64
            if word.count >= 8 {
                rest = base.loadUnaligned(fromByteOffset: word.count - 8, as: UInt64.self) >> UInt64(8 * (8 - remaining))
            } else {
                rest = 0
                var shift: UInt64 = 0
                if remaining & 4 != 0 {
                    rest = UInt64(base.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
                    offset += 4
                    shift = 32
                }
                if remaining & 2 != 0 {
                    rest |= UInt64(base.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian) << shift
                    offset += 2
                    shift += 16
                }
                if remaining & 1 != 0 { rest |= UInt64(word[offset]) << shift }
            }
            hash = (hash ^ rest) &* 0xBF58_476D_1CE4_E5B9
        }
        return mix(hash)
    }

    /// A final mix so every bit of the hash depends on every byte (splitmix64's finalizer).
    private static func mix(_ value: UInt64) -> UInt64 {
        var hash = value
        hash ^= hash >> 30
        hash &*= 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 27
        hash &*= 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 31)
    }
}
