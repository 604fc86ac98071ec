CREATE TABLE race_one (id int PRIMARY KEY);
