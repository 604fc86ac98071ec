CREATE TABLE race_two (id int PRIMARY KEY);
