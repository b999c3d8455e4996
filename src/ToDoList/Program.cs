using ToDoList.Hosting;

return await TodoCommandLine.Create().Parse(args).InvokeAsync();
