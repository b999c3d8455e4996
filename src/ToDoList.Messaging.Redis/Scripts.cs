using StackExchange.Redis;

namespace ToDoList.Messaging.Redis;

/// <summary>
/// The server-side steps that must be atomic. Publishing reads the durable-group registry and writes
/// to every matching stream in the same step as the PUBLISH, so a group declared before a publish
/// (by any process) always gets the message: there is no registry cache to go stale.
/// </summary>
internal static class Scripts
{
    /// <summary>NATS subject matching, as <see cref="Subjects.Matches"/> does it.</summary>
    private const string Matches = """
        local function tokens(s)
          local t = {}
          for token in string.gmatch(s, '[^.]+') do t[#t + 1] = token end
          return t
        end
        local function matches(pattern, subject)
          if pattern == subject then return true end
          if not string.find(pattern, '[*>]') then return false end
          local p, s = tokens(pattern), tokens(subject)
          for i = 1, #p do
            if p[i] == '>' then return #s >= i end
            if i > #s then return false end
            if p[i] ~= '*' and p[i] ~= s[i] then return false end
          end
          return #p == #s
        end
        """;

    /// <summary>
    /// KEYS[1] the set of durable subject patterns. ARGV: subject, pub/sub payload, reply channel or '',
    /// no-responders payload or '', max stream length, stream key prefix, wake channel prefix, 'same' when the
    /// stream's data is the pub/sub payload (else the data), then header field/value pairs.
    /// Returns {pub/sub receivers, streams written}; an error 'FULL stream' when a stream holds its limit.
    /// </summary>
    public static readonly Script Publish = new(Matches + """

        local subject = ARGV[1]
        local stored = 0
        local patterns = redis.call('SMEMBERS', KEYS[1])
        if #patterns > 0 then
          local fields = nil
          for _, pattern in ipairs(patterns) do
            if matches(pattern, subject) then
              local key = ARGV[6] .. pattern
              local max = tonumber(ARGV[5])
              if max > 0 and redis.call('XLEN', key) >= max then
                return redis.error_reply('FULL ' .. key)
              end
              if fields == nil then
                fields = {':subject', subject}
                if ARGV[3] ~= '' then fields[#fields + 1] = ':reply-to'; fields[#fields + 1] = ARGV[3] end
                fields[#fields + 1] = ':data'
                fields[#fields + 1] = ARGV[2]
                local first = 9
                if ARGV[8] ~= 'same' then fields[#fields] = ARGV[9]; first = 10 end
                for i = first, #ARGV do fields[#fields + 1] = ARGV[i] end
              end
              redis.call('XADD', key, '*', unpack(fields))
              redis.call('PUBLISH', ARGV[7] .. key, '')
              stored = stored + 1
            end
          end
        end
        local receivers = redis.call('PUBLISH', subject, ARGV[2])
        if receivers == 0 and stored == 0 and ARGV[3] ~= '' and ARGV[4] ~= '' then
          redis.call('PUBLISH', ARGV[3], ARGV[4])
        end
        return {receivers, stored}
        """);

    /// <summary>
    /// KEYS[1] the claim of one message, KEYS[2] the queue group's members (sorted set, score = expiry in ms
    /// of server time), KEYS[3] the group's round-robin counter. ARGV: this member, claim ttl ms.
    /// The first member to ask assigns the message to the next live member in turn; every member gets
    /// the same answer, and only the owner delivers it.
    /// </summary>
    public static readonly Script ClaimForGroup = new("""
        local owner = redis.call('GET', KEYS[1])
        if owner then return owner end
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        local members = redis.call('ZRANGE', KEYS[2], 0, -1)
        owner = ARGV[1]
        if #members > 0 then
          local turn = redis.call('INCR', KEYS[3])
          owner = members[(turn % #members) + 1]
        end
        redis.call('SET', KEYS[1], owner, 'PX', ARGV[2])
        return owner
        """);

    /// <summary>KEYS[1] the queue group's members. ARGV: this member, lease ms. Joins or renews the lease, in server time.</summary>
    public static readonly Script JoinGroup = new("""
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
        return 1
        """);

    /// <summary>
    /// KEYS[1] group registry (group → subject), KEYS[2] the set of subject patterns, KEYS[3] the stream.
    /// ARGV: group, subject. Makes the consumer group (from now on) if missing, registers it, and returns ''
    /// or the subject the group is already bound to when that differs.
    /// </summary>
    public static readonly Script DeclareGroup = new("""
        local bound = redis.call('HGET', KEYS[1], ARGV[1])
        if bound and bound ~= ARGV[2] then return bound end
        local made = redis.pcall('XGROUP', 'CREATE', KEYS[3], ARGV[1], '$', 'MKSTREAM')
        if type(made) == 'table' and made.err and not string.find(made.err, 'BUSYGROUP') then
          return redis.error_reply(made.err)
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[2])
        return ''
        """);

    /// <summary>
    /// KEYS[1] the stream. ARGV: group, consumer, min idle ms, count. Takes over entries idle that long
    /// (a member died, an ack wait ran out, a nak's delay passed) and returns {id, delivery count, fields} each.
    /// </summary>
    public static readonly Script Claim = new("""
        local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', ARGV[4])
        local out = {}
        for _, entry in ipairs(r[2]) do
          if entry[2] then
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], entry[1], entry[1], 1)
            local count = 1
            if p[1] then count = p[1][4] end
            out[#out + 1] = {entry[1], count, entry[2]}
          end
        end
        return out
        """);

    /// <summary>
    /// KEYS[1] the stream. ARGV[1] idle ms after which a consumer holding nothing is forgotten (a member
    /// that stopped: each member is a consumer of its own name). Deletes entries every group has
    /// acknowledged: those before the oldest entry still pending or not yet read by any group.
    /// Returns how many were deleted.
    /// </summary>
    public static readonly Script Trim = new("""
        local function parse(id)
          local dash = string.find(id, '-')
          return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
        end
        local function less(a, b)
          local am, as = parse(a)
          local bm, bs = parse(b)
          return am < bm or (am == bm and as < bs)
        end
        local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
        local keep = nil
        for _, group in ipairs(groups) do
          local info = {}
          for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
          for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], info['name'])) do
            local c = {}
            for i = 1, #consumer, 2 do c[consumer[i]] = consumer[i + 1] end
            if tonumber(c['pending']) == 0 and tonumber(c['idle']) > tonumber(ARGV[1]) then
              redis.call('XGROUP', 'DELCONSUMER', KEYS[1], info['name'], c['name'])
            end
          end
          local oldest = info['last-delivered-id']
          if tonumber(info['pending']) > 0 then
            local summary = redis.call('XPENDING', KEYS[1], info['name'])
            oldest = summary[2]
          end
          if keep == nil or less(oldest, keep) then keep = oldest end
        end
        if keep == nil then return 0 end
        return redis.call('XTRIM', KEYS[1], 'MINID', keep)
        """);
}

/// <summary>
/// A Lua script run by its SHA-1 (EVALSHA): passing the text made StackExchange.Redis hash the whole script on every
/// call to find it in its cache, the publisher's largest cost. A server that does not know it (restarted, flushed)
/// gets the text once (EVAL, which keeps it).
/// </summary>
internal sealed class Script(string text)
{
    private readonly byte[] _hash = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text));

    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(_hash, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(text, keys, values).ConfigureAwait(false);
        }
    }
}
