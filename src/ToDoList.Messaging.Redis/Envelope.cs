using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ToDoList.Messaging.Redis;

/// <summary>
/// Our <see cref="Message"/> on Redis pub/sub, which has no headers: a message with headers or a reply
/// subject travels as CloudEvents structured JSON; one with neither goes out as its bytes, unchanged,
/// and anything that is not our envelope arrives as raw data.
/// </summary>
/// <remarks>
/// The envelope carries the CloudEvents attributes at its top level for other readers, and every header
/// exactly (names and values) in the <c>todoheaders</c> object, which is also the marker that tells our
/// envelope from a JSON payload that merely looks like a CloudEvent.
/// </remarks>
internal static class Envelope
{
    public const string HeadersField = "todoheaders";
    public const string ReplyToField = "todoreplyto";

    private static readonly byte[] Marker = "\"todoheaders\""u8.ToArray();

    public static bool NeedsEnvelope(Message message) => message.HasHeaders || message.ReplyTo is not null;

    /// <summary>The pub/sub payload: the data itself, or the envelope around it.</summary>
    public static ReadOnlyMemory<byte> Encode(Message message)
    {
        if (!NeedsEnvelope(message))
        {
            return message.Data;
        }

        var buffer = new ArrayBufferWriter<byte>(message.Data.Length + 512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            var headers = message.HasHeaders ? message.Headers : null;
            json.WriteStartObject();
            json.WriteString("specversion", headers?[CloudEventHeaders.SpecVersion] ?? CloudEventHeaders.SpecVersionValue);
            json.WriteString("id", headers?[CloudEventHeaders.Id] ?? Nuid.Next());
            WriteIfPresent(json, "source", headers?[CloudEventHeaders.Source]);
            WriteIfPresent(json, "type", headers?[CloudEventHeaders.Type]);
            WriteIfPresent(json, "time", headers?[CloudEventHeaders.Time]);
            var contentType = headers?[CloudEventHeaders.DataContentType];
            WriteIfPresent(json, "datacontenttype", contentType);
            WriteIfPresent(json, "traceparent", headers?[CloudEventHeaders.TraceParent]);
            WriteIfPresent(json, ReplyToField, message.ReplyTo);
            json.WriteStartObject(HeadersField);
            if (headers is not null)
            {
                foreach (var (name, value) in headers)
                {
                    json.WriteString(name, value);
                }
            }

            json.WriteEndObject();
            if (!message.Data.IsEmpty)
            {
                if (IsJson(message.Data.Span))
                {
                    json.WritePropertyName("data");
                    json.WriteRawValue(message.Data.Span, skipInputValidation: true);
                }
                else
                {
                    json.WriteBase64String("data_base64", message.Data.Span);
                }
            }

            json.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>What arrived on <paramref name="channel"/>: our envelope unpacked, or anything else as raw data.</summary>
    public static Message Decode(string channel, byte[] payload)
    {
        if (payload.Length > 0 && payload[0] == (byte)'{' && payload.AsSpan().IndexOf(Marker) >= 0 && TryDecode(channel, payload) is { } message)
        {
            return message;
        }

        return new Message(channel, payload);
    }

    private static Message? TryDecode(string channel, byte[] payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("specversion", out var specVersion) || specVersion.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !root.TryGetProperty(HeadersField, out var headerObject) || headerObject.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            MessageHeaders? headers = null;
            foreach (var header in headerObject.EnumerateObject())
            {
                if (header.Value.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                headers ??= new MessageHeaders();
                headers[header.Name] = header.Value.GetString()!;
            }

            string? replyTo = null;
            if (root.TryGetProperty(ReplyToField, out var reply))
            {
                replyTo = reply.ValueKind == JsonValueKind.String ? reply.GetString() : null;
            }

            ReadOnlyMemory<byte> data = ReadOnlyMemory<byte>.Empty;
            if (root.TryGetProperty("data", out var inline))
            {
                data = JsonMarshal.GetRawUtf8Value(inline).ToArray();
            }
            else if (root.TryGetProperty("data_base64", out var base64))
            {
                data = base64.GetBytesFromBase64();
            }

            return new Message(channel, data, headers, replyTo);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    private static void WriteIfPresent(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>One JSON value with nothing around it: embedded as it is, it comes out byte for byte.</summary>
    private static bool IsJson(ReadOnlySpan<byte> data)
    {
        if (IsSpace(data[0]) || IsSpace(data[^1]))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            while (reader.Read())
            {
            }

            return reader.BytesConsumed == data.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
