using System.Text.Json;
using System.Text.Json.Serialization;
using ToDoList.Api;

namespace ToDoList.Items;

/// <summary>Source-generated JSON for every message and API body of the app.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NewItemEvent))]
[JsonSerializable(typeof(ItemSavedEvent))]
[JsonSerializable(typeof(CompleteItemCommand))]
[JsonSerializable(typeof(DeleteItemCommand))]
[JsonSerializable(typeof(ItemChangedEvent))]
[JsonSerializable(typeof(TodoItemResponse))]
[JsonSerializable(typeof(List<TodoItemResponse>))]
[JsonSerializable(typeof(AcceptedResponse))]
public sealed partial class TodoJson : JsonSerializerContext;
