using System.Collections;

namespace ToDoList.Messaging;

/// <summary>Message headers: case-insensitive names, one string value each, order of insertion kept.</summary>
public sealed class MessageHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly Dictionary<string, string> _values;

    public MessageHeaders() => _values = new(StringComparer.OrdinalIgnoreCase);

    public MessageHeaders(IEnumerable<KeyValuePair<string, string>> values) : this()
    {
        foreach (var (name, value) in values)
        {
            _values[name] = value;
        }
    }

    public int Count => _values.Count;

    /// <summary>The value, or null when the header is absent. Setting null removes it.</summary>
    public string? this[string name]
    {
        get => _values.TryGetValue(name, out var value) ? value : null;
        set
        {
            if (value is null)
            {
                _values.Remove(name);
            }
            else
            {
                _values[name] = value;
            }
        }
    }

    public bool Contains(string name) => _values.ContainsKey(name);

    public MessageHeaders Clone() => new(_values);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
