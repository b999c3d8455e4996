using System.Text;

namespace ToDoList.Messaging.Embedded;

/// <summary>Message headers as one blob of the queue file: a count, then each name and value as a length and UTF-8 bytes.</summary>
internal static class HeaderBlob
{
    public static byte[]? Encode(Message message)
    {
        if (!message.HasHeaders)
        {
            return null;
        }

        var headers = message.Headers;
        var size = LengthSize(headers.Count);
        foreach (var (name, value) in headers)
        {
            size += StringSize(name) + StringSize(value);
        }

        var blob = new byte[size];
        var at = WriteLength(blob, 0, headers.Count);
        foreach (var (name, value) in headers)
        {
            at = WriteString(blob, at, name);
            at = WriteString(blob, at, value);
        }

        return blob;
    }

    public static MessageHeaders? Decode(byte[]? blob)
    {
        if (blob is null || blob.Length == 0)
        {
            return null;
        }

        var at = 0;
        var count = ReadLength(blob, ref at);
        var headers = new MessageHeaders();
        for (var i = 0; i < count; i++)
        {
            var name = ReadString(blob, ref at);
            headers[name] = ReadString(blob, ref at);
        }

        return headers;
    }

    private static int StringSize(string text)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        return LengthSize(bytes) + bytes;
    }

    private static int LengthSize(int value)
    {
        var size = 1;
        while ((value >>= 7) != 0)
        {
            size++;
        }

        return size;
    }

    private static int WriteString(byte[] blob, int at, string text)
    {
        at = WriteLength(blob, at, Encoding.UTF8.GetByteCount(text));
        return at + Encoding.UTF8.GetBytes(text, blob.AsSpan(at));
    }

    private static int WriteLength(byte[] blob, int at, int value)
    {
        var rest = (uint)value;
        while (rest >= 0x80)
        {
            blob[at++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        blob[at++] = (byte)rest;
        return at;
    }

    private static string ReadString(byte[] blob, ref int at)
    {
        var length = ReadLength(blob, ref at);
        var text = Encoding.UTF8.GetString(blob, at, length);
        at += length;
        return text;
    }

    private static int ReadLength(byte[] blob, ref int at)
    {
        var value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = blob[at++];
            value |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
